import type { TurnActivitySink } from "@lash/protocol";
import type { TurnTracer } from "./turn-tracer.js";

/**
 * The host's activity sink with the turn's tracer in front of it (tool calls are traced from their
 * activities). The tracer is read lazily: the sink is built before the turn has an id.
 */
export function tracedActivitySink(inner: TurnActivitySink | undefined, tracer: () => TurnTracer | undefined): TurnActivitySink {
  const forward = inner?.isNoop ? undefined : inner;
  return {
    emit: (activity) => {
      tracer()?.onActivity(activity);
      return forward?.emit(activity);
    },
  };
}
