import type { LashRuntime } from "@lash/core";

/** What one object or array costs beyond its contents (headers, hidden class, slots), a V8 approximation. */
const OBJECT_OVERHEAD_BYTES = 64;
/** What one property or element slot costs. */
const SLOT_BYTES = 8;

/** What a runtime's path was estimated at, and which messages that covered (see `estimateRuntimeBytes`). */
export interface RuntimeSizeEstimate {
  /** The estimate, in bytes. */
  readonly bytes: number;
  /** How many messages of the path it covered, and the first and last of them. */
  readonly count: number;
  readonly first: unknown;
  readonly last: unknown;
}

/**
 * An estimate of the memory a live runtime holds for its session: the messages of its active path
 * (strings at two bytes per character, plus per-object and per-slot overheads) plus a fixed cost
 * for the runtime itself. It is an estimate, not a measurement: it is what the pool's byte bound
 * compares, so it must grow with what the session holds (long histories, big tool outputs, inline
 * images) and stay cheap enough to compute after every request.
 *
 * `previous` is the runtime's last estimate: the path only grows between most requests, so when the
 * path still starts with the messages it covered (the same first and last message: a path is its
 * last node's ancestry), they are counted from it and only the new ones are looked at. The caller
 * keeps the estimate with the runtime (no weak map per runtime or message: those cost the garbage
 * collector on every collection for as long as the runtime lives).
 */
export function estimateRuntimeBytes(runtime: LashRuntime, previous?: RuntimeSizeEstimate): RuntimeSizeEstimate {
  const messages = runtime.activeMessages();
  let start = 0;
  let total = RUNTIME_BASE_BYTES + OBJECT_OVERHEAD_BYTES;
  if (
    previous !== undefined &&
    previous.count > 0 &&
    previous.count <= messages.length &&
    messages[0] === previous.first &&
    messages[previous.count - 1] === previous.last
  ) {
    start = previous.count;
    total = previous.bytes;
  }
  for (let index = start; index < messages.length; index += 1) total += SLOT_BYTES + estimateValueBytes(messages[index]);
  return { bytes: total, count: messages.length, first: messages[0], last: messages.at(-1) };
}

/** What a runtime with an empty session costs (its core, graph, policy and environment references). */
export const RUNTIME_BASE_BYTES = 16 * 1024;

function estimateValueBytes(value: unknown): number {
  // An explicit stack: a deep message (nested tool arguments) must not overflow the call stack.
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === "string") total += 2 * current.length + 16;
    else if (current instanceof Uint8Array) total += current.byteLength + OBJECT_OVERHEAD_BYTES;
    else if (Array.isArray(current)) {
      total += OBJECT_OVERHEAD_BYTES + SLOT_BYTES * current.length;
      for (const item of current) stack.push(item);
    } else if (typeof current === "object" && current !== null) {
      const values = Object.values(current);
      total += OBJECT_OVERHEAD_BYTES + 2 * SLOT_BYTES * values.length;
      for (const item of values) stack.push(item);
    } else total += SLOT_BYTES;
  }
  return total;
}
