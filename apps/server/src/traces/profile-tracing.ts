import type { RuntimeEnvironmentBuilder } from "@lash/core";
import type { TraceLevel, TraceSink } from "@lash/protocol";
import type { AgentProfile } from "../profiles/agent-profile.js";
import { type TurnTraceRecorder, teeTraceSink } from "./turn-trace-recorder.js";

/**
 * The profiles, each also sending its trace records to `recorder`. A builder keeps one trace sink,
 * so a sink the host's `configureEnvironment` sets is caught on the way and receives every record
 * too, at the level the host chose.
 */
export function profilesTracedInto(
  profiles: Readonly<Record<string, AgentProfile>>,
  recorder: TurnTraceRecorder,
): Record<string, AgentProfile> {
  const traced: Record<string, AgentProfile> = {};
  for (const [name, profile] of Object.entries(profiles)) {
    traced[name] = {
      ...profile,
      configureEnvironment: (builder: RuntimeEnvironmentBuilder) => {
        let hostSink: TraceSink | undefined;
        let hostLevel: TraceLevel = "standard";
        let configured = builder;
        if (profile.configureEnvironment !== undefined) {
          // Shadows the prototype's method on this builder for the host's call only.
          const catchSink = function (this: RuntimeEnvironmentBuilder, sink: TraceSink, level: TraceLevel = "standard") {
            hostSink = sink;
            hostLevel = level;
            return this;
          };
          Object.defineProperty(builder, "withTraceSink", { value: catchSink, configurable: true, writable: true });
          try {
            configured = profile.configureEnvironment(builder);
          } finally {
            Reflect.deleteProperty(builder, "withTraceSink");
          }
        }
        return configured.withTraceSink(hostSink === undefined ? recorder : teeTraceSink(recorder, hostSink), hostLevel);
      },
    };
  }
  return traced;
}
