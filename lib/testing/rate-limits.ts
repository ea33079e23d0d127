/**
 * X's per-user rate limits on the API endpoints the emulator serves (X doc "Rate limits": a window
 * of 15 minutes per endpoint and user, reported in `x-rate-limit-limit`, `-remaining` and `-reset`,
 * the reset in epoch seconds). Counted against the emulator's clock, so a test can use a window up
 * and move the clock past its reset.
 */

/** One endpoint's limit: requests per window, per user. */
export interface RateLimitRule {
  readonly limit: number;
  readonly windowMs: number;
}

const FIFTEEN_MINUTES = 15 * 60_000;

/**
 * The limits per endpoint. `GET /2/users/me`: 75 per 15 minutes per user (X doc "Rate limits");
 * `GET /1.1/account/verify_credentials.json`: 75 per 15 minutes per user (X's v1.1 reference);
 * `POST /1.1/oauth/invalidate_token`: X says "Rate limited? Yes" without a number, 75 is the emulator's.
 */
export const RATE_LIMITS: Readonly<Record<string, RateLimitRule>> = Object.freeze({
  '/2/users/me': { limit: 75, windowMs: FIFTEEN_MINUTES },
  '/1.1/account/verify_credentials.json': { limit: 75, windowMs: FIFTEEN_MINUTES },
  '/1.1/oauth/invalidate_token': { limit: 75, windowMs: FIFTEEN_MINUTES },
});

/** What one counted request leaves: whether it may be served, and the headers to send either way. */
export interface RateLimitOutcome {
  readonly allowed: boolean;
  readonly headers: Record<string, string>;
}

/** The counters: one window per endpoint, app and user. */
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly now: () => number) {}

  /** Counts one request of `user` (of `app`) to `path` and says whether it is within the limit. */
  take(path: string, app: string, user: string): RateLimitOutcome {
    const rule = RATE_LIMITS[path];
    if (!rule) return { allowed: true, headers: {} };
    const now = this.now();
    this.sweep(now);
    const key = `${path}\n${app}\n${user}`;
    let window = this.windows.get(key);
    if (!window || now >= window.resetAt) {
      window = { count: 0, resetAt: now + rule.windowMs };
      this.windows.set(key, window);
    }
    const allowed = window.count < rule.limit;
    if (allowed) window.count += 1;
    return {
      allowed,
      headers: {
        'x-rate-limit-limit': String(rule.limit),
        'x-rate-limit-remaining': String(rule.limit - window.count),
        'x-rate-limit-reset': String(Math.ceil(window.resetAt / 1000)),
      },
    };
  }

  /** Forgets windows that reset, so a long-running emulator does not grow. */
  private sweep(now: number): void {
    if (this.windows.size < 1000) return;
    for (const [key, window] of this.windows) if (now >= window.resetAt) this.windows.delete(key);
  }
}
