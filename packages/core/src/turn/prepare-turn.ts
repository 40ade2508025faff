import type { AssembledTurn, Message, PromptContribution, ToolProvider, TurnInput } from "@lash/protocol";
import { RuntimeError } from "@lash/protocol";
import type { SessionCore } from "../runtime/session-core.js";
import { messageFromPluginMessage } from "../session/plugin-messages.js";
import type { TurnEventPipe } from "./event-pipe.js";
import { buildUserMessage, normalizeTurnInput } from "./normalize-input.js";
import type { TurnAssembler } from "./turn-assembler.js";

/** A turn ready for the effect loop. */
export interface PreparedTurn {
  readonly type: "prepared";
  /** History (possibly transformed), the user message and any messages plugins enqueued. */
  readonly messages: readonly Message[];
  readonly promptContributions: readonly PromptContribution[];
  readonly toolProviders: readonly ToolProvider[];
  readonly includeBaseTools: boolean;
}

/** A turn that ended before the effect loop (invalid input, plugin abort). Nothing was committed. */
export interface FinishedEarly {
  readonly type: "finished";
  readonly turn: AssembledTurn;
}

async function deliver(pending: void | Promise<void>): Promise<void> {
  if (pending !== undefined) await pending;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The phases before the effect loop: input normalisation, the context transforms and the
 * `beforeTurn` hooks. Invalid input and plugin aborts end the turn here as values, leaving the
 * session untouched (no turn index increment, no commit).
 */
export async function prepareTurn(
  core: SessionCore,
  input: TurnInput,
  pipe: TurnEventPipe,
  assembler: TurnAssembler,
  treatMissingDoneAsFailure: boolean,
): Promise<PreparedTurn | FinishedEarly> {
  const previousPromptUsage = core.lastPromptUsage;
  const normalized = await normalizeTurnInput(input, core.environment.core.attachmentStore);
  if (!normalized.ok) {
    core.lastPromptUsage = undefined;
    const { message } = normalized;
    await deliver(
      pipe.session({ type: "error", message, envelope: { kind: "input_validation", code: "invalid_turn_input", userMessage: message } }),
    );
    await deliver(pipe.sessionOnly({ type: "turn_outcome", outcome: { type: "stopped", stop: { type: "invalid_input" } } }));
    await deliver(pipe.sessionOnly({ type: "done" }));
    return { type: "finished", turn: assembler.finish({ state: core.exportEnvelope(), interrupted: false, treatMissingDoneAsFailure }) };
  }
  const userMessage = buildUserMessage(normalized.items);
  const { plugins } = core.environment;
  let prepared = {
    messages: [...core.graph.activeMessages(), userMessage] as readonly Message[],
    promptContributions: [] as readonly PromptContribution[],
    toolProviders: [] as readonly ToolProvider[],
    includeBaseTools: true,
  };
  if (plugins.isEmpty) return { type: "prepared", ...prepared };

  try {
    prepared = await plugins.transformTurnContext(
      {
        sessionId: core.sessionId,
        state: core.exportEnvelope(),
        promptUsage: previousPromptUsage,
        maxContextTokens: core.policy.maxContextTokens,
        turnContext: input.turnContext,
      },
      prepared,
    );
  } catch (error) {
    throw new RuntimeError("context_prepare_turn", `context transform failed: ${errorMessage(error)}`, { cause: error });
  }

  let collected;
  try {
    collected = await plugins.beforeTurn({
      sessionId: core.sessionId,
      state: core.exportEnvelope(),
      messages: prepared.messages,
      turnContext: input.turnContext,
      sessions: core.sessions,
    });
  } catch (error) {
    throw new RuntimeError("plugin_prepare_turn", `beforeTurn hook failed: ${errorMessage(error)}`, { cause: error });
  }
  const misplaced = collected.rejected[0] ?? collected.toolDirectives[0];
  if (misplaced) {
    throw new RuntimeError(
      "plugin_prepare_turn",
      `plugin \`${misplaced.pluginId}\` returned \`${misplaced.directive.type}\`: tool directives are not valid in beforeTurn`,
    );
  }
  const messages = [
    ...prepared.messages,
    ...collected.messages.map((message) => messageFromPluginMessage(message, { pluginId: "plugin", transient: false })),
  ];
  for (const { pluginId, event } of collected.events) await deliver(pipe.sessionOnly({ type: "plugin_event", pluginId, event }));
  for (const directive of collected.sessions) {
    if (directive.type === "create_session") await core.sessions.createSession(directive.request);
  }

  if (collected.abort) {
    // The aborted turn is reported over a copy of the session with its messages applied; the
    // session itself is not changed and nothing is committed.
    const { code, message } = collected.abort;
    const draft = core.graph.clone();
    draft.replaceActiveReadState(messages);
    await deliver(pipe.session({ type: "error", message, envelope: { kind: "plugin", code, userMessage: message } }));
    await deliver(pipe.sessionOnly({ type: "turn_outcome", outcome: { type: "stopped", stop: { type: "plugin_abort" } } }));
    await deliver(pipe.sessionOnly({ type: "done" }));
    const turn = assembler.finish({
      state: core.exportEnvelope(draft),
      interrupted: false,
      forcedIssue: { kind: "plugin", code, message },
      treatMissingDoneAsFailure,
    });
    return { type: "finished", turn };
  }
  return { type: "prepared", ...prepared, messages };
}
