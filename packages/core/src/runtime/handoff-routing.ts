import type { FirstTurnInput, TurnInput } from "@lash/protocol";
import type { SessionCore } from "./session-core.js";

/**
 * The session a turn submitted to `core` runs on: follows handoff successors to the last one.
 * Returns `undefined` when there is no successor (or the chain loops), and `"missing"` when a
 * successor is registered but not managed.
 */
export function resolveHandoffLeaf(core: SessionCore): SessionCore | "missing" | undefined {
  const visited = new Set<string>([core.sessionId]);
  let current = core;
  let leaf: SessionCore | undefined;
  for (;;) {
    const successorId = current.sessions.successorOf(current.sessionId);
    if (successorId === undefined) return leaf;
    if (visited.has(successorId)) return undefined;
    visited.add(successorId);
    const successor = current.sessions.child(successorId);
    if (!successor) return "missing";
    leaf = successor;
    current = successor;
  }
}

/** Finds the manager that holds `sessionId` anywhere under `core` and takes the successor's seed. */
export function takeFirstTurnInput(core: SessionCore, sessionId: string): FirstTurnInput | undefined {
  if (core.sessionId === sessionId && core.pendingFirstTurnInput) {
    const seed = core.pendingFirstTurnInput;
    core.pendingFirstTurnInput = undefined;
    return seed;
  }
  const direct = core.sessions.takeFirstTurnInput(sessionId);
  if (direct) return direct;
  for (const childId of core.sessions.sessionIds) {
    const child = core.sessions.child(childId);
    const found = child ? takeFirstTurnInput(child, sessionId) : undefined;
    if (found) return found;
  }
  return undefined;
}

/**
 * The input of a successor's first turn, built from its seed: the seed's text, then its images as
 * blobs `handoff-seed-image-{i}`. Mode options, trace id and turn context carry over; the mode
 * extension does not (it belongs to the original session's mode).
 */
export function inputFromSeed(seed: FirstTurnInput, original: TurnInput, traceTurnId: string): TurnInput {
  const items: TurnInput["items"] = [];
  if (seed.content !== "") items.push({ type: "text", text: seed.content });
  const imageBlobs: Record<string, Uint8Array> = {};
  (seed.images ?? []).forEach((image, index) => {
    const id = `handoff-seed-image-${index}`;
    imageBlobs[id] = image;
    items.push({ type: "image_ref", id });
  });
  return {
    items,
    ...(Object.keys(imageBlobs).length > 0 ? { imageBlobs } : {}),
    ...(original.modeTurnOptions ? { modeTurnOptions: original.modeTurnOptions } : {}),
    ...(original.turnContext ? { turnContext: original.turnContext } : {}),
    traceTurnId,
  };
}
