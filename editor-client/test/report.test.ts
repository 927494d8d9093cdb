import { describe, expect, it } from 'vitest';

import { formatStatus, modelState, summarizeAdapter, summarizeIndex, summarizeStatus } from '../src/core/report';

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
