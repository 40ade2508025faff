import type { AssembledTurn, Message, PluginRuntimeEvent, TokenLedgerEntry } from "@lash/protocol";
import { isEmptyTokenUsage, normalizePromptUsage, RuntimeError } from "@lash/protocol";
import type { SessionCore } from "../runtime/session-core.js";
import { freshMessageId, partId } from "../session/ids.js";
import { isTransientMessage, renderMessageText } from "../session/message-text.js";
import { messageFromPluginMessage } from "../session/plugin-messages.js";
import { sanitizeAssistantText } from "./output-classification.js";
import type { TurnContext } from "./turn-context.js";

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function deliver(pending: void | Promise<void>): Promise<void> {
  if (pending !== undefined) await pending;
}

/**
 * Appends the final answer as an assistant message unless the conversation already ends with one
 * that reads as that answer (the standard mode appends its own, with reasoning parts).
 */
function materializeTerminalOutput(core: SessionCore, turn: AssembledTurn): void {
  const { outcome } = turn;
  if (outcome.type !== "finished" || outcome.finish.type !== "assistant_message") return;
  const text = outcome.finish.text;
  if (text === "") return;
  const last = core.graph
    .activeMessages()
    .filter((message) => !isTransientMessage(message))
    .at(-1);
  if (last?.role === "assistant" && sanitizeAssistantText(renderMessageText(last)).endsWith(text)) return;
  const id = freshMessageId();
  const message: Message = { id, role: "assistant", parts: [{ kind: "prose", id: partId(id, 0), content: text }] };
  core.graph.appendMessage(message);
}

/**
 * The phases after the effect loop: usage accounting, assembly, `afterTurn` hooks, the final commit
 * (graph, checkpoint and usage in one idempotent commit) and the lifecycle notifications.
 */
export async function completeTurn(completion: TurnContext): Promise<AssembledTurn> {
  const { core } = completion;
  const { assembler, pipe, selection } = completion;
  const { plugins } = core.environment;
  await completion.beforeCompletion(!plugins.isEmpty);

  const turnUsage = assembler.tokenUsage;
  // What progress commits did not carry yet.
  const usageDeltas: TokenLedgerEntry[] = completion.usageSinceLastCommit();
  core.turnIndex = completion.turnIndex;
  if (!isEmptyTokenUsage(turnUsage)) core.tokenUsage = turnUsage;
  const lastUsage = assembler.lastLlmUsage;
  core.lastPromptUsage = lastUsage
    ? normalizePromptUsage(lastUsage, selection.provider.inputUsageExcludesCachedTokens ?? false)
    : undefined;

  const interrupted = completion.interruption !== undefined;
  const assembled = assembler.finish({
    state: core.exportEnvelope(),
    activeMessages: core.graph.activeMessages(),
    interrupted,
    ...(completion.interruption ? { interruptionStop: completion.interruption } : {}),
    treatMissingDoneAsFailure: completion.termination.treatMissingDoneAsFailure,
  });

  const afterTurnEvents: { pluginId: string; event: PluginRuntimeEvent }[] = [];
  if (!plugins.isEmpty) {
    let collected;
    try {
      collected = await plugins.afterTurn({ sessionId: core.sessionId, turnIndex: completion.turnIndex, turn: assembled });
    } catch (error) {
      throw new RuntimeError("plugin_finalize_turn", `afterTurn hook failed: ${errorMessage(error)}`, { cause: error });
    }
    const misplaced = collected.rejected[0] ?? collected.toolDirectives[0];
    if (misplaced) {
      throw new RuntimeError(
        "plugin_finalize_turn",
        `plugin \`${misplaced.pluginId}\` returned \`${misplaced.directive.type}\`, which is not valid in afterTurn`,
      );
    }
    for (const message of collected.messages)
      core.graph.appendMessage(messageFromPluginMessage(message, { pluginId: "plugin", transient: false }));
    for (const directive of collected.sessions) {
      if (directive.type === "create_session") await core.sessions.createSession(directive.request);
    }
    afterTurnEvents.push(...collected.events);
    await plugins.emitLifecycle({ type: "turn_committed", turn: assembled });
  }

  materializeTerminalOutput(core, assembled);
  // A stopped turn's partial output is kept; the record says why it ended, for whoever reloads it.
  if (assembled.outcome.type === "stopped") core.graph.appendTurnStopped(completion.turnId, completion.turnIndex, assembled.outcome.stop);
  try {
    const commitId = completion.suspended ? `${completion.turnId}:suspend:${completion.segment}` : completion.commitId("final");
    // The turn's one power-loss durable commit: it also makes its earlier checkpoints durable (ADR 0030).
    await core.commit(commitId, usageDeltas, "turn");
  } catch (error) {
    throw new RuntimeError("store_commit_failed", `final commit of turn \`${completion.turnId}\` failed: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  const turn: AssembledTurn = { ...assembled, state: core.exportEnvelope() };
  for (const { pluginId, event } of afterTurnEvents) await deliver(pipe.sessionOnly({ type: "plugin_event", pluginId, event }));
  if (!plugins.isEmpty) await plugins.emitLifecycle({ type: "turn_persisted", turn });
  return turn;
}
