import { describe, expect, it } from 'vitest';

import { RestartPolicy } from '../src/core/backoff';

const options = { initialMs: 1000, maxMs: 5000, maxFailures: 4, healthyAfterMs: 60_000 };

describe('RestartPolicy', () => {
  it('doubles the delay after each quick death, up to the cap, then gives up', () => {
    const policy = new RestartPolicy(options);
    const decisions = [0, 1, 2, 3, 4].map((i) => policy.onExit(i * 1000, i * 1000 + 500));
    expect(decisions).toEqual([
      { action: 'restart', delayMs: 1000, failures: 1 },
      { action: 'restart', delayMs: 2000, failures: 2 },
      { action: 'restart', delayMs: 4000, failures: 3 },
      { action: 'restart', delayMs: 5000, failures: 4 },
      { action: 'giveUp', failures: 5 },
    ]);
  });

  it('treats a process that stayed up long enough as healthy again', () => {
    const policy = new RestartPolicy(options);
    policy.onExit(0, 100);
    policy.onExit(1000, 1100);
    expect(policy.failureCount).toBe(2);
    expect(policy.onExit(10_000, 10_000 + 60_000)).toEqual({ action: 'restart', delayMs: 1000, failures: 1 });
  });

  it('starts over after a deliberate restart', () => {
    const policy = new RestartPolicy(options);
    for (let i = 0; i < 5; i++) {
      policy.onExit(0, 1);
    }
    expect(policy.onExit(0, 1).action).toBe('giveUp');
    policy.reset();
    expect(policy.onExit(0, 1)).toEqual({ action: 'restart', delayMs: 1000, failures: 1 });
  });
});
