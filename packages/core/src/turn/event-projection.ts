import type { SessionEvent, TurnEvent } from "@lash/protocol";

/**
 * The app-facing activity a session event projects to, or `undefined` for events that reach only
 * the `EventSink` (deltas, tool calls, messages, responses, `done`, plain outcomes).
 */
export function projectSessionEvent(event: SessionEvent): TurnEvent | undefined {
  switch (event.type) {
    case "llm_request":
      return { type: "model_request_started", modeIteration: event.modeIteration };
    case "token_usage":
      return { type: "usage", modeIteration: event.modeIteration, usage: event.usage, cumulative: event.cumulative };
    case "child_token_usage":
      return {
        type: "child_usage",
        sessionId: event.sessionId,
        source: event.source,
        model: event.model,
        modeIteration: event.modeIteration,
        usage: event.usage,
        cumulative: event.cumulative,
      };
    case "retry_status":
      return {
        type: "retry_status",
        waitSeconds: event.waitSeconds,
        attempt: event.attempt,
        maxAttempts: event.maxAttempts,
        reason: event.reason,
      };
    case "plugin_event":
      return { type: "plugin_runtime", pluginId: event.pluginId, event: event.event };
    case "injected_turn_input_accepted":
      return { type: "queued_input_accepted", checkpoint: event.checkpoint, inputs: event.inputs };
    case "injected_messages_committed":
      return { type: "queued_messages_committed", messages: event.messages, checkpoint: event.checkpoint };
    case "error":
      return { type: "error", message: event.message };
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
