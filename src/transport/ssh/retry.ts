/**
 * Exponential backoff for connecting (never for commands, which may not be idempotent:
 * only a `docker exec` whose process never started runs again, see ShellTransport.exec;
 * and never for refusals that waiting cannot fix: authentication, host keys).
 */
export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 2, baseDelayMs: 250, maxDelayMs: 4000 };

/** The wait before retry number `retry` (1-based): base, 2 x base, 4 x base, ... capped. */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
}

export interface RetryHooks {
  shouldRetry: (error: unknown) => boolean;
  onRetry?: (error: unknown, retry: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks,
): Promise<T> {
  const sleep = hooks.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (n > policy.retries || !hooks.shouldRetry(e)) throw e;
      const delay = backoffDelay(policy, n);
      hooks.onRetry?.(e, n, delay);
      await sleep(delay);
    }
  }
}
