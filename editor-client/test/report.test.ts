import { describe, expect, it } from 'vitest';

import {
  feedbackToday, formatLastCompletion, formatStatus, modelState, summarizeAdapter, summarizeBackground, summarizeIndex,
  summarizeStatus, trainingOf,
} from '../src/core/report';

// The shape of Session.status() in server/session.py and folder_status() in server/status.py.
const STATUS = {
  model: 'qwen2.5-coder-1.5b-instruct', model_state: 'ready', model_error: '', runtime: 'llama.cpp',
  model_path: '/cache/models/qwen.gguf', device: 'cpu', adapter: null, kv_cache: null,
  folders: [
    { root: '/work/shop', index: '/cache/indexes/shop-1a2b', indexing: false, indexed: true, files: 5, chunks: 9,
      symbols: 14, last_indexed: 1735787045.25, stale_files: 1, embedder: 'all-minilm-l6-v2' },
    { root: '/work/empty', index: '/cache/indexes/empty-3c4d', indexing: false, indexed: false },
  ],
};

describe('status reports', () => {
  it('formats every folder', () => {
    expect(formatStatus(STATUS)).toBe([
      'model: qwen2.5-coder-1.5b-instruct (ready)',
      'runtime: llama.cpp on cpu',
      'model path: /cache/models/qwen.gguf',
      'adapter: none',
      'shop (/work/shop)',
      '  index: /cache/indexes/shop-1a2b',
      '  5 files, 9 chunks, 14 symbols',
      '  last indexed: 2025-01-02T03:04:05Z',
      '  1 files changed since',
      'empty (/work/empty)',
      '  no index yet: run "housecoder: Index Workspace" for repository context',
    ].join('\n'));
  });

  it('summarizes in one line', () => {
    expect(summarizeStatus({ ...STATUS, adapter: '/adapters/house-style' }))
      .toBe('housecoder: qwen2.5-coder-1.5b-instruct ready; adapter house-style; shop: 5 files indexed; empty: no index');
  });

  it('reads the model state, with the error when loading failed', () => {
    expect(modelState(STATUS)).toEqual({ state: 'ready', model: 'qwen2.5-coder-1.5b-instruct', error: undefined });
    expect(modelState({ model: 'm', model_state: 'error', model_error: 'sha256 mismatch' }))
      .toEqual({ state: 'error', model: 'm', error: 'sha256 mismatch' });
    expect(modelState({})).toBeUndefined(); // the server answers {} before initialize
    expect(modelState(null)).toBeUndefined();
  });

  it('says why the last request showed nothing', () => {
    const last = { uri: 'file:///work/shop/shop/checkout.py', line: 0, character: 5, shown: false, reason: 'not triggered: inside a string' };
    expect(formatStatus({ ...STATUS, last_decision: last }))
      .toContain('adapter: none\nlast request: not triggered: inside a string (checkout.py:1)\nshop (/work/shop)');
    expect(formatStatus({ ...STATUS, last_decision: null })).toBe(formatStatus(STATUS));
  });

  it('says when the server has not initialized', () => {
    expect(formatStatus({})).toMatch(/not initialized/);
  });
});

describe('index and adapter results', () => {
  it('summarizes indexed folders and failures', () => {
    expect(summarizeIndex([{ root: '/work/shop', indexed: 5, unchanged: 0, deleted: 0, chunks: 9, symbols: 14, seconds: 1.2 }]))
      .toEqual({ ok: true, message: 'housecoder: shop: 5 files indexed, 0 unchanged, 0 deleted; 9 chunks in 1.2 s' });
    expect(summarizeIndex([{ root: '/work/shop', error: 'housecoder: indexing shop failed: disk full' }]))
      .toEqual({ ok: false, message: 'housecoder: housecoder: indexing shop failed: disk full' });
    expect(summarizeIndex([]).ok).toBe(false);
  });

  it('summarizes the adapter switch', () => {
    expect(summarizeAdapter({ adapter: '/a/house-style' })).toEqual({ ok: true, message: 'housecoder: adapter /a/house-style active' });
    expect(summarizeAdapter({ adapter: null })).toEqual({ ok: true, message: 'housecoder: no adapter (base model)' });
    expect(summarizeAdapter({ adapter: null, error: 'no adapter_config.json' }))
      .toEqual({ ok: false, message: 'housecoder: no adapter_config.json' });
    expect(summarizeAdapter({}).ok).toBe(false);
  });
});

describe('acceptance figures and the last completion', () => {
  it("reads today's figures from the status, when the server records them", () => {
    const today = { shown: 12, accepted: 5, rate: 0.4167 };
    expect(feedbackToday({ ...STATUS, feedback: { enabled: true, today } })).toEqual(today);
    expect(feedbackToday({ ...STATUS, feedback: { enabled: true, today: { shown: 0, accepted: 0, rate: null } } })).toEqual({ shown: 0, accepted: 0, rate: null });
    expect(feedbackToday({ ...STATUS, feedback: { enabled: false, today } })).toBeUndefined();
    expect(feedbackToday({ ...STATUS, feedback: { enabled: true, today: { shown: '12' } } })).toBeUndefined();
    expect(feedbackToday(STATUS)).toBeUndefined();
    expect(formatStatus({ ...STATUS, feedback: { enabled: true, today } })).toContain('adapter: none\ntoday: 12 suggestions shown, 5 accepted (42%)\n');
  });

  it("formats the server's trace with the completion as JSON on its own line", () => {
    const trace = {
      completion: 'price_with_vat(order.net_cents, "de")\n', trigger: { reason: 'end of a line', multi_line: false },
      snippets: [{ path: 'shop/pricing.py', reason: 'definition of price_with_vat (function)' }],
      timings_ms: { context: 42.5, model: 23.7 }, prompt_tokens: 412, new_tokens: 9, stopped_by: 'newline', cached: '',
      why: 'shown: 38 characters (end of a line)',
    };
    expect(formatLastCompletion(trace)).toBe([
      'completion: "price_with_vat(order.net_cents, \\"de\\")\\n"',
      'why: shown: 38 characters (end of a line)',
      'trigger: end of a line',
      'prompt 412 tokens, 9 new, stopped by newline',
      'snippet: shop/pricing.py (definition of price_with_vat (function))',
      'timings: context 42.5 ms, model 23.7 ms',
    ].join('\n'));
    expect(formatLastCompletion(null)).toBe('no completion for this document yet');
  });
});

describe('background training', () => {
  const training = (record: object | null, root = '/work/shop'): object => ({ ...STATUS, folders: [{ root, training: record }] });

  it('shows a live run with its share learned, or paused', () => {
    const live = { phase: 'training', running: true, paused: false, tokens_learned: 4200, tokens_planned: 10000,
      line: 'training: 4,200 of 10,000 tokens (42%), from 3 of 4 files' };
    expect(trainingOf(training(live))).toEqual({
      running: true, active: true, short: 'learning 42%', line: 'shop: training: 4,200 of 10,000 tokens (42%), from 3 of 4 files',
    });
    expect(trainingOf(training({ ...live, paused: true }))?.short).toBe('learning paused');
    expect(trainingOf(training({ ...live, phase: 'measuring the base model', line: 'measuring the base model' }))?.short)
      .toBe('learning');
  });

  it('shows the last verdict of a run that ended, and nothing when none ran', () => {
    expect(trainingOf(training({ phase: 'finished', running: false, line: 'finished: activated' }))).toEqual({
      running: false, active: false, short: '', line: 'shop: finished: activated',
    });
    const stopped = trainingOf(training({ phase: 'training', running: false, line: 'stopped while training; the next background run resumes it' }));
    expect(stopped).toMatchObject({ running: false, active: true, short: '' });  // asked again: it may be starting
    expect(trainingOf(training(null))).toBeUndefined();
    expect(trainingOf(STATUS)).toBeUndefined();
    expect(trainingOf('nonsense')).toBeUndefined();
    expect(formatStatus(training({ phase: 'finished', line: 'finished: activated' }))).toContain(
      '  background training: finished: activated',
    );
  });

  it('summarizes what the command started', () => {
    expect(summarizeBackground([{ root: '/work/shop', state: 'started' }, { root: '/work/web', state: 'already training in the background' }]))
      .toBe('housecoder: background training: shop: started; web: already training in the background');
    expect(summarizeBackground([])).toBe('housecoder: no workspace folder to train on');
  });
});
