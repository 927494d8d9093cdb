/**
 * When to tell the server where the cursor settled (`housecoder/cursor`): after the cursor moved to
 * another line or document and then stayed put for `delayMs`. The server prefills that line's prompt
 * while the user is idle, so the first keystroke there is answered fast. Typing within a line sends
 * nothing (each inline request already carries the cursor).
 *
 * Timers are injected, so the policy is tested with fake ones.
 */

export interface CursorEvent {
  uri: string;
  line: number;
  character: number;
}

export interface Timers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class CursorWatcher {
  private pending: unknown;
  private sent: { uri: string; line: number } | undefined;

  constructor(
    /** Returns false when the event could not be sent (no server): it is then sent again on the next move. */
    private readonly send: (event: CursorEvent) => boolean,
    private readonly delayMs = 300,
    private readonly timers: Timers = realTimers,
  ) {}

  /** The cursor is now at `event`; sent once it settles there if its line or document is new. */
  moved(event: CursorEvent): void {
    if (this.pending !== undefined) {
      this.timers.clearTimeout(this.pending);
      this.pending = undefined;
    }
    if (this.sent?.uri === event.uri && this.sent.line === event.line) {
      return;
    }
    this.pending = this.timers.setTimeout(() => {
      this.pending = undefined;
      if (this.send(event)) {
        this.sent = { uri: event.uri, line: event.line };
      }
    }, this.delayMs);
  }

  dispose(): void {
    if (this.pending !== undefined) {
      this.timers.clearTimeout(this.pending);
      this.pending = undefined;
    }
  }
}
