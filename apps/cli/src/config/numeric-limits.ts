import { usageError } from "../cli-error.js";

/**
 * The longest delay a Node.js timer honours (a signed 32-bit count of milliseconds). A longer one
 * fires at once with a `TimeoutOverflowWarning`, so a generous `--timeout` would stop the turn
 * immediately: every duration the command hands to a timer is capped below it.
 */
const LONGEST_TIMER_SECONDS = Math.floor(2_147_483_647 / 1000);

/** A numeric setting that can be given by flag, environment variable and config file field. */
export interface NumericLimit {
  /** The flag without its dashes (`max-model-calls`). */
  readonly flag: string;
  readonly env: string;
  /** The config file field (`maxModelCalls`). */
  readonly field: string;
  /** Whole numbers only (counts); durations take fractions of a second. */
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
  /** `0` is accepted too and means "no limit" (the provider timeouts). */
  readonly zeroDisables: boolean;
  /** How the value reads in messages: `a number of seconds`, `a whole number`. */
  readonly noun: string;
}

const seconds = (flag: string, env: string, field: string, zeroDisables: boolean): NumericLimit => ({
  flag,
  env,
  field,
  integer: false,
  // 1 ms: anything shorter rounds to a zero-length timer.
  min: 0.001,
  max: LONGEST_TIMER_SECONDS,
  zeroDisables,
  noun: "a number of seconds",
});

const count = (flag: string, env: string, field: string, max: number): NumericLimit => ({
  flag,
  env,
  field,
  integer: true,
  min: 1,
  max,
  zeroDisables: false,
  noun: "a whole number",
});

/**
 * Every numeric setting and its accepted range (the README's "Limits" table lists the same). The
 * upper bounds of the counts are far above any real use; they exist so that a typo (`1e20`) is an
 * error naming the setting instead of a failure deep in the runtime.
 */
export const NUMERIC_LIMITS = {
  maxContextTokens: count("max-context-tokens", "LASH_MAX_CONTEXT_TOKENS", "maxContextTokens", 100_000_000),
  maxModelCalls: count("max-model-calls", "LASH_MAX_MODEL_CALLS", "maxModelCalls", 100_000),
  maxTokens: count("max-tokens", "LASH_MAX_TOKENS", "maxTokens", 1_000_000_000),
  timeoutSeconds: seconds("timeout", "LASH_TIMEOUT", "timeoutSeconds", false),
  requestTimeoutSeconds: seconds("request-timeout", "LASH_REQUEST_TIMEOUT", "requestTimeoutSeconds", true),
  chunkTimeoutSeconds: seconds("chunk-timeout", "LASH_CHUNK_TIMEOUT", "chunkTimeoutSeconds", true),
} as const satisfies Record<string, NumericLimit>;

export type NumericLimitName = keyof typeof NUMERIC_LIMITS;

/** `a whole number from 1 to 100000`, `0 (no limit) or a number of seconds from 0.001 to 2147483`. */
export function describeRange(limit: NumericLimit): string {
  return `${limit.zeroDisables ? "0 (no limit) or " : ""}${limit.noun} from ${limit.min} to ${limit.max}`;
}

/** True when `value` is in the accepted range of `limit`. */
export function withinLimit(limit: NumericLimit, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (value === 0 && limit.zeroDisables) return true;
  if (limit.integer && !Number.isInteger(value)) return false;
  return value >= limit.min && value <= limit.max;
}

/**
 * Reads the text of a flag or an environment variable as the number `limit` accepts; anything
 * else is a usage error naming `where` (`--timeout`, `LASH_TIMEOUT`) and the accepted range.
 */
export function parseLimit(limit: NumericLimit, raw: string, where: string): number {
  const value = Number(raw);
  if (raw.trim() === "" || !withinLimit(limit, value))
    throw usageError(`${where} must be ${describeRange(limit)}, got ${JSON.stringify(raw)}`);
  return value;
}

/** Seconds as the milliseconds of a timer (already in range, so at least 1 ms and at most the timer's maximum). */
export function secondsToMs(value: number): number {
  return Math.round(value * 1000);
}
