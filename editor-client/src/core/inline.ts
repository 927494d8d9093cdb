/**
 * Inline completion requests as the editor fires them (on every keystroke): wait `debounceMs`
 * after the last one, cancel the previous request when a new one arrives (the language client
 * then sends `$/cancelRequest` and the server stops its model at the next token), and count what
 * is in flight for the status bar.
 *
 * Pure: cancellation is any object shaped like `vscode.CancellationToken`; the extension passes
 * `vscode.CancellationTokenSource` in, the tests a small fake.
 */

export interface Disposable {
  dispose(): void;
}

export interface CancellationTokenLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): Disposable;
}

export interface CancellationSourceLike<T extends CancellationTokenLike> {
  readonly token: T;
  cancel(): void;
  dispose(): void;
}

export interface InlineRequestsOptions<T extends CancellationTokenLike> {
  newSource: () => CancellationSourceLike<T>;
  /** Read on every request, so a settings change applies at once. */
  debounceMs: () => number;
  onStart?: () => void;
  onEnd?: () => void;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class InlineRequests<T extends CancellationTokenLike> {
  private current: CancellationSourceLike<T> | undefined;

  constructor(private readonly options: InlineRequestsOptions<T>) {}

  /** Requests started and not yet answered or dropped (0 or 1: each new one cancels the previous). */
  get pending(): boolean {
    return this.current !== undefined;
  }

  /**
   * Debounce, then `send` with a token that is cancelled when the editor cancels `token` or a newer
   * request arrives. Resolves undefined for a request that was superseded or cancelled. An `invoked`
   * request (the user asked for a suggestion: *Trigger Inline Suggestion*, Alt+\\) is not debounced.
   */
  async run<R>(
    token: CancellationTokenLike,
    send: (token: T) => PromiseLike<R | null | undefined> | R | null | undefined,
    invoked = false,
  ): Promise<R | undefined> {
    this.current?.cancel();
    const source = this.options.newSource();
    this.current = source;
    const link = token.onCancellationRequested(() => source.cancel());
    if (token.isCancellationRequested) {
      source.cancel();
    }
    try {
      await this.wait(invoked ? 0 : this.options.debounceMs(), source.token);
      if (source.token.isCancellationRequested) {
        return undefined;
      }
      this.options.onStart?.();
      try {
        const result = await send(source.token);
        return source.token.isCancellationRequested || result === null ? undefined : result;
      } finally {
        this.options.onEnd?.();
      }
    } finally {
      link.dispose();
      if (this.current === source) {
        this.current = undefined;
      }
      source.dispose();
    }
  }

  /** Cancel whatever is waiting or in flight (the server went away, completions were switched off). */
  cancelAll(): void {
    this.current?.cancel();
  }

  private wait(ms: number, token: T): Promise<void> {
    if (ms <= 0 || token.isCancellationRequested) {
      return Promise.resolve();
    }
    const setTimer = this.options.setTimer ?? ((callback: () => void, delay: number) => setTimeout(callback, delay));
    const clearTimer = this.options.clearTimer ?? ((handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>));
    return new Promise((resolve) => {
      const subscription = token.onCancellationRequested(() => {
        clearTimer(timer);
        subscription.dispose();
        resolve();
      });
      const timer = setTimer(() => {
        subscription.dispose();
        resolve();
      }, ms);
    });
  }
}
