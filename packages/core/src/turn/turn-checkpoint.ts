import type { CheckpointKind, Message, PluginMessage, SessionAccess } from "@lash/protocol";
import type { PluginHost } from "../plugins/plugin-host.js";
import type { TurnInjectionBridge, TurnInputInjectionBridge } from "../session/injection-bridges.js";
import { messageFromPluginMessage } from "../session/plugin-messages.js";
import type { TurnEventPipe } from "./event-pipe.js";
import type { CheckpointResult } from "./turn-machine-types.js";

export interface CheckpointEnvironment {
  readonly sessionId: string;
  readonly plugins: PluginHost;
  readonly pipe: TurnEventPipe;
  readonly sessions: SessionAccess;
  readonly turnInjection: TurnInjectionBridge;
  readonly inputInjection: TurnInputInjectionBridge;
  /** Messages `afterToolCall` hooks enqueued during the turn. */
  readonly takeToolHookMessages: () => PluginMessage[];
}

async function deliver(pending: void | Promise<void>): Promise<void> {
  if (pending !== undefined) await pending;
}

/**
 * A checkpoint: drains the injection bridges, runs the `atCheckpoint` hooks and returns the
 * messages to add (committed ones become part of the session; injected inputs are transient).
 */
export async function runCheckpoint(
  kind: CheckpointKind,
  modeIteration: number,
  messages: readonly Message[],
  environment: CheckpointEnvironment,
): Promise<CheckpointResult> {
  const committed: PluginMessage[] = [...environment.takeToolHookMessages(), ...environment.turnInjection.drain()];
  const inputs = environment.inputInjection.drain();
  const { plugins, pipe } = environment;
  if (!plugins.isEmpty) {
    let collected;
    try {
      collected = await plugins.atCheckpoint({
        sessionId: environment.sessionId,
        kind,
        modeIteration,
        messages,
        sessions: environment.sessions,
      });
    } catch (error) {
      return {
        ok: false,
        code: "plugin_checkpoint",
        message: `checkpoint hook failed: ${error instanceof Error ? error.message : String(error)}`,
        abort: false,
      };
    }
    const invalid = collected.rejected[0] ?? collected.toolDirectives[0];
    if (invalid !== undefined) {
      const { pluginId, directive } = invalid;
      return {
        ok: false,
        code: "plugin_checkpoint",
        message: `plugin \`${pluginId}\` returned \`${directive.type}\`, which is not valid at a checkpoint`,
        abort: false,
      };
    }
    if (inputs.length > 0) await deliver(pipe.session({ type: "queued_input_accepted", inputs, checkpoint: kind }));
    for (const { pluginId, event } of collected.events) await deliver(pipe.sessionOnly({ type: "plugin_event", pluginId, event }));
    for (const directive of collected.sessions) {
      if (directive.type === "create_session") await environment.sessions.createSession(directive.request);
    }
    if (collected.abort) return { ok: false, code: collected.abort.code, message: collected.abort.message, abort: true };
    committed.push(...collected.messages);
  } else if (inputs.length > 0) {
    await deliver(pipe.session({ type: "queued_input_accepted", inputs, checkpoint: kind }));
  }
  if (committed.length > 0) await deliver(pipe.session({ type: "queued_messages_committed", messages: committed, checkpoint: kind }));
  return {
    ok: true,
    committed: committed.map((message) => messageFromPluginMessage(message, { pluginId: "plugin", transient: false })),
    transient: inputs.map((input) => messageFromPluginMessage(input.message, { pluginId: "plugin", transient: true })),
  };
}
