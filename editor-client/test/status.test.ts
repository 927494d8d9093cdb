import { describe, expect, it } from 'vitest';

import { INITIAL_STATUS, reduce, view, type StatusEvent, type StatusState } from '../src/core/status';

function run(events: StatusEvent[], start: StatusState = INITIAL_STATUS): StatusState {
  return events.reduce(reduce, start);
}

describe('status transitions', () => {
  const table: Array<[string, StatusEvent[], string, StatusState['phase']]> = [
    ['nothing started', [], '$(circle-slash) housecoder', 'stopped'],
    ['process starting', [{ type: 'starting' }], '$(loading~spin) housecoder', 'starting'],
    ['initialized, model loading', [{ type: 'starting' }, { type: 'running' }], '$(loading~spin) housecoder', 'loading'],
    ['model ready', [{ type: 'starting' }, { type: 'running' }, { type: 'model', state: 'ready', model: 'qwen' }], '$(check) housecoder', 'ready'],
    ['generating', [{ type: 'starting' }, { type: 'running' }, { type: 'model', state: 'ready' }, { type: 'generateStart' }],
      '$(loading~spin) housecoder: generating', 'ready'],
    ['generation answered', [{ type: 'starting' }, { type: 'running' }, { type: 'model', state: 'ready' }, { type: 'generateStart' },
      { type: 'generateEnd' }], '$(check) housecoder', 'ready'],
    ['indexing wins over generating', [{ type: 'starting' }, { type: 'running' }, { type: 'model', state: 'ready' }, { type: 'indexStart' },
      { type: 'generateStart' }], '$(sync~spin) housecoder: indexing', 'ready'],
    ['indexing while the model loads', [{ type: 'starting' }, { type: 'running' }, { type: 'indexStart' }],
      '$(sync~spin) housecoder: indexing', 'loading'],
    ['model failed to load', [{ type: 'starting' }, { type: 'running' }, { type: 'model', state: 'error', error: 'hash mismatch' }],
      '$(error) housecoder', 'error'],
    ['process died, restart scheduled', [{ type: 'starting' }, { type: 'running' }, { type: 'indexStart' }, { type: 'exited', restartInMs: 1500 }],
      '$(error) housecoder', 'error'],
    ['restarted after dying', [{ type: 'starting' }, { type: 'exited', restartInMs: 1000 }, { type: 'starting' }, { type: 'running' },
      { type: 'model', state: 'ready' }], '$(check) housecoder', 'ready'],
    ['gave up', [{ type: 'starting' }, { type: 'failed', message: 'the server process exited 6 times in a row' }], '$(error) housecoder', 'error'],
    ['stopped', [{ type: 'starting' }, { type: 'running' }, { type: 'stopped' }], '$(circle-slash) housecoder', 'stopped'],
  ];
  it.each(table)('%s', (_name, events, text, phase) => {
    const state = run(events);
    expect(state.phase).toBe(phase);
    expect(view(state).text).toBe(text);
  });

  it('keeps the error message and the restart countdown in the tooltip', () => {
    const died = run([{ type: 'starting' }, { type: 'exited', restartInMs: 1500 }]);
    expect(view(died)).toEqual({ text: '$(error) housecoder', tooltip: 'housecoder: the server stopped; restarting in 2 s', severity: 'error' });
    const failed = run([{ type: 'starting' }, { type: 'running' }, { type: 'model', state: 'error', error: 'hash mismatch' }]);
    expect(view(failed).tooltip).toBe('housecoder: hash mismatch');
  });

  it('ignores a late model report from a process that is gone', () => {
    const state = run([{ type: 'starting' }, { type: 'model', state: 'ready' }]);
    expect(state.phase).toBe('starting');
  });

  it('never counts below zero and forgets work in flight when the process dies', () => {
    expect(run([{ type: 'generateEnd' }, { type: 'indexEnd' }])).toMatchObject({ generating: 0, indexing: 0 });
    expect(run([{ type: 'running' }, { type: 'generateStart' }, { type: 'exited', restartInMs: 1 }])).toMatchObject({ generating: 0 });
  });

  it('shows when completions are off for the active language', () => {
    const ready = run([{ type: 'starting' }, { type: 'running' }, { type: 'model', state: 'ready', model: 'qwen' }]);
    expect(view(ready, false).text).toBe('$(circle-slash) housecoder');
    expect(view(ready, true).tooltip).toBe('housecoder: ready (qwen)');
  });

  it('does not mutate the previous state', () => {
    const before = run([{ type: 'starting' }]);
    const copy = { ...before };
    reduce(before, { type: 'indexStart' });
    expect(before).toEqual(copy);
  });

  it("shows today's acceptance rate when ready, and says so in the tooltip", () => {
    const ready = run([{ type: 'starting' }, { type: 'running' }, { type: 'model', state: 'ready', model: 'qwen' },
      { type: 'feedback', feedback: { shown: 12, accepted: 5, rate: 5 / 12 } }]);
    expect(view(ready)).toEqual({
      text: '$(check) housecoder · 42% accepted today',
      tooltip: 'housecoder: ready (qwen)\nToday: 5 of 12 suggestions accepted (42%).',
      severity: 'normal',
    });
    expect(view(reduce(ready, { type: 'generateStart' })).text).toBe('$(loading~spin) housecoder: generating');
    expect(view(ready, false).tooltip).toBe('housecoder: ready; off for this language (housecoder.languages)\nToday: 5 of 12 suggestions accepted (42%).');
    const none = reduce(ready, { type: 'feedback', feedback: { shown: 0, accepted: 0, rate: null } });
    expect(view(none).text).toBe('$(check) housecoder');
    expect(view(none).tooltip).toBe('housecoder: ready (qwen)\nNo suggestions shown today yet.');
    expect(view(reduce(ready, { type: 'feedback', feedback: undefined })).tooltip).toBe('housecoder: ready (qwen)');
  });

  it('shows background training beside the ready state', () => {
    const ready = run([{ type: 'starting' }, { type: 'running' }, { type: 'model', state: 'ready', model: 'qwen' }]);
    const learning = reduce(ready, {
      type: 'training', training: { running: true, active: true, short: 'learning 42%', line: 'shop: training: 4,200 of 10,000 tokens (42%)' },
    });
    expect(view(learning)).toEqual({
      text: '$(check) housecoder · learning 42%',
      tooltip: 'housecoder: ready (qwen)\nBackground training: shop: training: 4,200 of 10,000 tokens (42%)',
      severity: 'normal',
    });
    const finished = reduce(learning, { type: 'training', training: { running: false, active: false, short: '', line: 'shop: finished: activated' } });
    expect(view(finished).text).toBe('$(check) housecoder');
    expect(view(finished).tooltip).toContain('Background training: shop: finished: activated');
  });
});
