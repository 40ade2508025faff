import type { SessionEvent, TurnEvent } from "@lash/protocol";

/**
 * The app-facing activity a session event projects to, or `undefined` for events that reach only
 * the `EventSink` (messages, responses, `done`, plain outcomes) and for the deltas and tool calls,
 * whose activities the turn emits itself with their correlation ids. The shared events keep their
 * name and payload: the activity is the event.
 */
export function projectSessionEvent(event: SessionEvent): TurnEvent | undefined {
  switch (event.type) {
    case "model_request_started":
    case "usage":
    case "child_usage":
    case "retry_status":
    case "plugin_event":
    case "queued_input_accepted":
    case "queued_messages_committed":
    case "error":
      return event;
    case "turn_outcome": {
      const { outcome } = event;
      if (outcome.type !== "finished") return undefined;
      if (outcome.finish.type === "submitted_value") return { type: "submitted_value", value: outcome.finish.value };
      if (outcome.finish.type === "tool_value")
        return { type: "tool_value", toolName: outcome.finish.toolName, value: outcome.finish.value };
      return undefined;
    }
    default:
      return undefined;
  }
}
