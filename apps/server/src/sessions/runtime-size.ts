import type { LashRuntime } from "@lash/core";

/** What one object or array costs beyond its contents (headers, hidden class, slots), a V8 approximation. */
const OBJECT_OVERHEAD_BYTES = 64;
/** What one property or element slot costs. */
const SLOT_BYTES = 8;

/**
 * An estimate of the memory a live runtime holds for its session: the messages of its active path
 * (strings at two bytes per character, plus per-object and per-slot overheads) plus a fixed cost
 * for the runtime itself. It is an estimate, not a measurement: it is what the pool's byte bound
 * compares, so it must grow with what the session holds (long histories, big tool outputs, inline
 * images) and stay cheap enough to compute after every request.
 */
export function estimateRuntimeBytes(runtime: LashRuntime): number {
  const messages = runtime.activeMessages();
  // The path only grows between most requests: the messages estimated last time, when the path
  // still starts with them (the same first and last message: a path is its last node's ancestry),
  // are counted from then, and only the new ones are looked at.
  const previous = pathEstimates.get(runtime);
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
  for (let index = start; index < messages.length; index += 1) {
    const message = messages[index] as object;
    // A stored message never changes, and the graph hands out the same object each time: its
    // estimate is computed once, so a release costs a lookup per message, not a walk of its parts.
    let bytes = messageBytes.get(message);
    if (bytes === undefined) {
      bytes = estimateValueBytes(message);
      messageBytes.set(message, bytes);
    }
    total += SLOT_BYTES + bytes;
  }
  if (messages.length > 0) pathEstimates.set(runtime, { count: messages.length, first: messages[0], last: messages.at(-1), bytes: total });
  return total;
}

/** What a runtime's path was estimated at, and which messages that covered. */
interface PathEstimate {
  readonly count: number;
  readonly first: unknown;
  readonly last: unknown;
  readonly bytes: number;
}

/** The last estimate of each runtime, kept as long as the runtime. */
const pathEstimates = new WeakMap<LashRuntime, PathEstimate>();

/** The estimate of each message seen, kept as long as the message itself. */
const messageBytes = new WeakMap<object, number>();

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
