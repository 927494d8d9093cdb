/** A cancellation token source shaped like vscode.CancellationTokenSource, for the pure modules. */

import type { CancellationSourceLike, CancellationTokenLike, Disposable } from '../src/core/inline';

export class FakeToken implements CancellationTokenLike {
  isCancellationRequested = false;
  private listeners = new Set<() => void>();

  onCancellationRequested(listener: () => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  fire(): void {
    if (!this.isCancellationRequested) {
      this.isCancellationRequested = true;
      for (const listener of [...this.listeners]) {
        listener();
      }
    }
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

export class FakeSource implements CancellationSourceLike<FakeToken> {
  readonly token = new FakeToken();
  disposed = false;

  cancel(): void {
    this.token.fire();
  }

  dispose(): void {
    this.disposed = true;
  }
}
