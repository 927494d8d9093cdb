import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { InlineRequests } from '../src/core/inline';
import { FakeSource, FakeToken } from './fakes';

function setup(debounceMs = 100) {
  const sources: FakeSource[] = [];
  const events: string[] = [];
  const requests = new InlineRequests<FakeToken>({
    newSource: () => {
      const source = new FakeSource();
      sources.push(source);
      return source;
    },
    debounceMs: () => debounceMs,
    onStart: () => events.push('start'),
    onEnd: () => events.push('end'),
  });
  return { requests, sources, events };
}

describe('InlineRequests', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits the debounce, then sends once and returns the answer', async () => {
    const { requests, events } = setup(100);
    const send = vi.fn(() => Promise.resolve(['return json.load(f)']));
    const answer = requests.run(new FakeToken(), send);
    await vi.advanceTimersByTimeAsync(99);
    expect(send).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(await answer).toEqual(['return json.load(f)']);
    expect(send).toHaveBeenCalledTimes(1);
    expect(events).toEqual(['start', 'end']);
    expect(requests.pending).toBe(false);
  });

  it('a newer keystroke cancels the one still waiting: only the last is sent', async () => {
    const { requests, sources } = setup(100);
    const send = vi.fn(() => Promise.resolve('x'));
    const first = requests.run(new FakeToken(), send);
    await vi.advanceTimersByTimeAsync(50);
    const second = requests.run(new FakeToken(), send);
    expect(await first).toBeUndefined(); // woken by the cancellation, not by the timer
    await vi.advanceTimersByTimeAsync(100);
    expect(await second).toBe('x');
    expect(send).toHaveBeenCalledTimes(1);
    expect(sources[0].token.isCancellationRequested).toBe(true);
    expect(sources.every((source) => source.disposed)).toBe(true);
  });

  it('a newer request cancels the token of the one in flight (the client sends $/cancelRequest) and drops its answer', async () => {
    const { requests, events } = setup(0);
    let release: (value: string) => void = () => undefined;
    const seen: FakeToken[] = [];
    const first = requests.run(new FakeToken(), (token) => {
      seen.push(token);
      return new Promise<string>((resolve) => {
        release = resolve;
      });
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['start']);
    const second = requests.run(new FakeToken(), () => Promise.resolve('new'));
    expect(seen[0].isCancellationRequested).toBe(true);
    release('stale');
    expect(await first).toBeUndefined();
    expect(await second).toBe('new');
    expect(events).toEqual(['start', 'start', 'end', 'end']);
  });

  it('the editor cancelling its token cancels ours', async () => {
    const { requests } = setup(0);
    const editor = new FakeToken();
    let ours: FakeToken | undefined;
    const answer = requests.run(editor, (token) => {
      ours = token;
      editor.fire();
      return 'late';
    });
    expect(await answer).toBeUndefined();
    expect(ours?.isCancellationRequested).toBe(true);
    expect(editor.listenerCount).toBe(0);
  });

  it('an already cancelled request is never sent', async () => {
    const { requests } = setup(100);
    const editor = new FakeToken();
    editor.fire();
    const send = vi.fn(() => 'x');
    expect(await requests.run(editor, send)).toBeUndefined();
    expect(send).not.toHaveBeenCalled();
  });

  it('null from the client (a cancelled or empty request) becomes undefined', async () => {
    const { requests } = setup(0);
    expect(await requests.run(new FakeToken(), () => null)).toBeUndefined();
  });

  it('cancelAll stops the waiting request', async () => {
    const { requests } = setup(1000);
    const send = vi.fn(() => 'x');
    const answer = requests.run(new FakeToken(), send);
    requests.cancelAll();
    expect(await answer).toBeUndefined();
    expect(send).not.toHaveBeenCalled();
  });

  it('reads the debounce on every request', async () => {
    let debounce = 500;
    const requests = new InlineRequests<FakeToken>({ newSource: () => new FakeSource(), debounceMs: () => debounce });
    debounce = 10;
    const answer = requests.run(new FakeToken(), () => 'x');
    await vi.advanceTimersByTimeAsync(10);
    expect(await answer).toBe('x');
  });

  it('sends at once what the user asked for (Trigger Inline Suggestion), without the debounce', async () => {
    const { requests } = setup(500);
    const send = vi.fn(() => 'x');
    const answer = requests.run(new FakeToken(), send, true);
    await vi.advanceTimersByTimeAsync(0);
    expect(send).toHaveBeenCalledTimes(1);
    expect(await answer).toBe('x');
  });
});
