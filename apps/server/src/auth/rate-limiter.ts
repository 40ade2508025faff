/** A token bucket's settings: `burst` requests at once, then `requestsPerSecond` on average. */
export interface RateLimit {
  /** How fast the bucket refills, in requests per second (may be fractional: 0.5 is one request every 2 s). */
  readonly requestsPerSecond: number;
  /** The bucket's size: how many requests may come at once after a quiet spell. */
  readonly burst: number;
}

/**
 * The default per-key limit: 10 requests per second with bursts of 50. A turn is one request
 * however long it streams, so this bounds how fast a key starts work, not how much it reads.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { requestsPerSecond: 10, burst: 50 };

interface Bucket {
  tokens: number;
  /** The clock's reading when `tokens` was last brought up to date. */
  updatedAt: number;
}

/**
 * One token bucket per API key. `now` is a clock in milliseconds (injectable: tests drive it, and
 * nothing here reads the wall clock). Buckets exist only for keys that authenticated, so their
 * number is bounded by the keys in the store, whatever clients send.
 */
export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit, now: () => number) {
    if (!(limit.requestsPerSecond > 0) || !Number.isFinite(limit.requestsPerSecond)) {
      throw new RangeError(`requestsPerSecond must be a positive number, got ${limit.requestsPerSecond}`);
    }
    if (!Number.isInteger(limit.burst) || limit.burst < 1)
      throw new RangeError(`burst must be a whole number of at least 1, got ${limit.burst}`);
    this.#limit = limit;
    this.#now = now;
  }

  /**
   * Takes one request's token from `key`'s bucket: 0 when the request may go on, else the whole
   * seconds (at least 1) until a token is back, for `Retry-After`.
   */
  take(key: string): number {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#limit.burst, updatedAt: now };
    // A clock that went backwards refills nothing (and takes nothing back).
    const elapsedSeconds = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(this.#limit.burst, bucket.tokens + elapsedSeconds * this.#limit.requestsPerSecond);
    bucket.updatedAt = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#limit.requestsPerSecond));
  }
}
