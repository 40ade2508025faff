import { LashError } from "@lash/protocol";

/**
 * How long a provider call may wait on the network. `null` disables a timeout.
 *
 * - `requestTimeoutMs`: from the start of the call until the response starts (status line and
 *   headers received).
 * - `chunkTimeoutMs`: once the response has started, the longest gap allowed between two chunks
 *   of its body (the gap is measured again after every chunk, so a long stream that keeps moving
 *   never times out).
 */
export interface ProviderTimeouts {
  readonly requestTimeoutMs: number | null;
  readonly chunkTimeoutMs: number | null;
}

/** The defaults: 300 s for the response to start, 120 s between two chunks. */
export const DEFAULT_PROVIDER_TIMEOUTS: ProviderTimeouts = Object.freeze({
  requestTimeoutMs: 300_000,
  chunkTimeoutMs: 120_000,
});

/**
 * The largest delay `setTimeout` honours: a longer one fires at once (Node and browsers store the
 * delay in a signed 32-bit integer), which would turn a generous timeout into an immediate abort.
 */
const LONGEST_TIMER_MS = 2_147_483_647;

const TIMEOUT_FIELDS = ["requestTimeoutMs", "chunkTimeoutMs"] as const;

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return typeof value;
}

function resolveField(field: (typeof TIMEOUT_FIELDS)[number], value: unknown): number | null {
  if (value === undefined) return DEFAULT_PROVIDER_TIMEOUTS[field];
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > LONGEST_TIMER_MS) {
    throw new LashError(
      "invalid_configuration",
      `provider timeouts: ${field} must be null (disabled) or a number of milliseconds greater than 0 and at most ${LONGEST_TIMER_MS}; got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * Completes and validates timeouts given by a caller: a missing field takes its value from
 * `DEFAULT_PROVIDER_TIMEOUTS`, `null` disables that timeout.
 *
 * @throws LashError `invalid_configuration` naming the field when a value is not `null` or a
 *   positive finite number of milliseconds a timer can honour, or when an unknown field is given
 *   (a misspelt option would otherwise be ignored silently).
 */
export function resolveProviderTimeouts(partial?: Partial<ProviderTimeouts>): ProviderTimeouts {
  if (partial === undefined) return DEFAULT_PROVIDER_TIMEOUTS;
  if (typeof partial !== "object" || partial === null) {
    throw new LashError(
      "invalid_configuration",
      `provider timeouts must be an object with requestTimeoutMs and/or chunkTimeoutMs; got ${describeValue(partial)}`,
    );
  }
  const known = new Set<string>(TIMEOUT_FIELDS);
  for (const key of Object.keys(partial)) {
    if (!known.has(key)) {
      throw new LashError(
        "invalid_configuration",
        `provider timeouts: unknown field ${JSON.stringify(key)} (expected requestTimeoutMs or chunkTimeoutMs)`,
      );
    }
  }
  return Object.freeze({
    requestTimeoutMs: resolveField("requestTimeoutMs", partial.requestTimeoutMs),
    chunkTimeoutMs: resolveField("chunkTimeoutMs", partial.chunkTimeoutMs),
  });
}
