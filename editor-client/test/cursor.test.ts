import { describe, expect, it } from 'vitest';

import { CursorWatcher, type CursorEvent, type Timers } from '../src/core/cursor';

class FakeTimers implements Timers {
  private next = 1;
  private readonly due = new Map<number, () => void>();

  setTimeout(run: () => void): unknown {
    const handle = this.next++;
    this.due.set(handle, run);
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }

  fire(): void {
    const runs = [...this.due.values()];
    this.due.clear();
    runs.forEach((run) => run());
  }

  get pending(): number {
    return this.due.size;
  }
}

const at = (line: number, character = 0, uri = 'file:///a.py'): CursorEvent => ({ uri, line, character });

describe('CursorWatcher', () => {
  it('sends the position the cursor settled at, once, after it moved to another line', () => {
    const sent: CursorEvent[] = [];
    const timers = new FakeTimers();
    const watcher = new CursorWatcher((event) => sent.push(event) > 0, 300, timers);
    watcher.moved(at(3));
    watcher.moved(at(4));
    watcher.moved(at(5, 2)); // still moving: only the last place counts
    expect(timers.pending).toBe(1);
    timers.fire();
    expect(sent).toEqual([at(5, 2)]);
    watcher.moved(at(5, 3)); // typing within the line: nothing
    watcher.moved(at(5, 4));
    expect(timers.pending).toBe(0);
    timers.fire();
    expect(sent).toEqual([at(5, 2)]);
  });

  it('sends again for another document or line', () => {
    const sent: CursorEvent[] = [];
    const timers = new FakeTimers();
    const watcher = new CursorWatcher((event) => sent.push(event) > 0, 300, timers);
    watcher.moved(at(1));
    timers.fire();
    watcher.moved(at(1, 0, 'file:///b.py'));
    timers.fire();
    watcher.moved(at(2, 0, 'file:///b.py'));
    timers.fire();
    expect(sent.map((event) => [event.uri, event.line])).toEqual([
      ['file:///a.py', 1], ['file:///b.py', 1], ['file:///b.py', 2],
    ]);
  });

  it('tries again on the next move when there was no server to send to', () => {
    const sent: CursorEvent[] = [];
    let up = false;
    const timers = new FakeTimers();
    const watcher = new CursorWatcher((event) => up && sent.push(event) > 0, 300, timers);
    watcher.moved(at(2));
    timers.fire();
    up = true;
    watcher.moved(at(2, 1)); // same line: sent now, since nothing reached the server before
    timers.fire();
    expect(sent).toEqual([at(2, 1)]);
  });

  it('sends nothing once disposed', () => {
    const sent: CursorEvent[] = [];
    const timers = new FakeTimers();
    const watcher = new CursorWatcher((event) => sent.push(event) > 0, 300, timers);
    watcher.moved(at(7));
    watcher.dispose();
    timers.fire();
    expect(sent).toEqual([]);
  });
});
