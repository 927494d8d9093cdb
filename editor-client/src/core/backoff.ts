/**
 * When to restart a server process that died: exponential backoff between attempts, a run that
 * stayed up long enough counts as healthy again, and after too many quick deaths in a row the
 * extension gives up and says so (the user restarts it by command once the cause is fixed).
 *
 * Pure: times are passed in (milliseconds), so the policy is tested without timers.
 */

export interface BackoffOptions {
  /** Delay before the first restart. */
  initialMs: number;
  /** Upper bound for one delay. */
  maxMs: number;
  /** Consecutive quick deaths after which no restart is tried. */
  maxFailures: number;
  /** A process that ran at least this long resets the count (loading the model takes seconds). */
  healthyAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, maxFailures: 5, healthyAfterMs: 120_000 };

export type RestartDecision =
  | { action: 'restart'; delayMs: number; failures: number }
  | { action: 'giveUp'; failures: number };

export class RestartPolicy {
  private failures = 0;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

  /** Consecutive quick failures so far. */
  get failureCount(): number {
    return this.failures;
  }

  /** The process that started at `startedAt` died at `now`: restart after a delay, or give up. */
  onExit(startedAt: number, now: number): RestartDecision {
    if (now - startedAt >= this.options.healthyAfterMs) {
      this.failures = 0;
    }
    this.failures += 1;
    if (this.failures > this.options.maxFailures) {
      return { action: 'giveUp', failures: this.failures };
    }
    const delayMs = Math.min(this.options.maxMs, this.options.initialMs * 2 ** (this.failures - 1));
    return { action: 'restart', delayMs, failures: this.failures };
  }

  /** A deliberate (re)start by the user or a settings change: forget earlier failures. */
  reset(): void {
    this.failures = 0;
  }
}
