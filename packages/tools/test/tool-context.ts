import type { ToolContext } from "@lash/protocol";
import { ToolError } from "@lash/protocol";

/** The context a tool sees when the tests call it directly, outside a turn (no child sessions). */
export function toolContext(signal: AbortSignal = new AbortController().signal): ToolContext {
  return {
    callId: "call-1",
    toolName: "test",
    sessionId: "s",
    turnIndex: 1,
    signal,
    sessions: {
      currentSessionId: "s",
      createSession: () => Promise.reject(new Error("not used")),
      runTurn: () => Promise.reject(new Error("not used")),
      closeSession: () => Promise.reject(new Error("not used")),
    },
  };
}

/** The `ToolError` a call failed with (anything else fails the test). */
export async function failure(promise: Promise<unknown>): Promise<ToolError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!ToolError.isInstance(error)) throw new Error(`expected a ToolError, got ${String(error)}`);
  return error;
}
