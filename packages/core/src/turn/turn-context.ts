import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type {
  ApprovalHandler,
  JsonValue,
  Message,
  PluginMessage,
  TerminationPolicy,
  TokenLedgerEntry,
  TokenUsage,
  ToolCallApproval,
  ToolCallRecord,
  TurnInput,
  TurnStop,
} from "@lash/protocol";
import { emptyTokenUsage, isEmptyTokenUsage, mergeTokenLedger, subtractTokenUsage } from "@lash/protocol";
import { toolOutputBudgetOf } from "../context/context-settings.js";
import { turnToolOutputBudget } from "../context/tool-output-budget.js";
import type { ExecutionMode, ModeTurnSetup } from "../modes/execution-mode.js";
import { PluginHost } from "../plugins/plugin-host.js";
import type { EffectInvocation, EffectKind, RuntimeEffectHost } from "../runtime/effect-host.js";
import type { SessionCore } from "../runtime/session-core.js";
import type { ToolBatchEnvironment } from "../tools/tool-batch.js";
import type { ToolSurface } from "../tools/tool-surface.js";
import { TurnTracer } from "../tracing/turn-tracer.js";
import type { TurnEventPipe } from "./event-pipe.js";
import type { LlmCallEnvironment } from "./llm-call.js";
import type { PreparedTurn } from "./prepare-turn.js";
import { abortableSleep } from "./provider-call.js";
import { TurnAbort } from "./turn-abort.js";
import type { TurnAssembler } from "./turn-assembler.js";
import type { TurnCancellation } from "./turn-cancellation.js";
import { runCheckpoint } from "./turn-checkpoint.js";
import { isResumeSafe, TurnGraphWriter } from "./turn-graph-writer.js";
import type { CheckpointResult, SurfaceSyncResult, TurnEffect } from "./turn-machine-types.js";
import { answerText, checkOutput, repairMessage, type TurnOutputRequest } from "./turn-output.js";
import { buildTurnSurface, providerSettings, type TurnModelSelection } from "./turn-setup.js";

async function deliver(pending: void | Promise<void>): Promise<void> {
  if (pending !== undefined) await pending;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The effects that do the turn's work (a model call, tools, code): a due progress commit is made
 * before them, so that a process killed while they run keeps the boundary before them. Checkpoints,
 * limit checks and surface syncs only decide what comes next (often the end of the turn, whose
 * final commit carries the same state), so they do not wait for it.
 */
const WORK_EFFECTS: ReadonlySet<EffectKind> = new Set<EffectKind>(["llm_call", "tool_batch", "exec_code"]);

/** What a turn context is made from, once the turn is prepared. */
export interface TurnContextInit {
  readonly core: SessionCore;
  readonly input: TurnInput;
  readonly prepared: PreparedTurn;
  readonly mode: ExecutionMode;
  readonly pipe: TurnEventPipe;
  readonly assembler: TurnAssembler;
  readonly termination: TerminationPolicy;
  readonly selection: TurnModelSelection;
  readonly output: TurnOutputRequest | undefined;
  /** The host's signal: aborting it cancels the turn. */
  readonly hostSignal: AbortSignal | undefined;
  /** A turn stream's cancel (`TurnStream.cancel`): it cancels the turn as the host's signal does. */
  readonly cancellation?: TurnCancellation | undefined;
  /** The turn's own approver (`TurnRunOptions.approve`); the runtime's answers when absent. */
  readonly approve?: ApprovalHandler | undefined;
  /** Set when a suspended turn resumes: the turn keeps its identity, clock, usage and repairs. */
  readonly resumed?: ResumedTurnIdentity | undefined;
}

/** What a resumed turn takes over from the run that suspended. */
export interface ResumedTurnIdentity {
  readonly turnId: string;
  readonly turnIndex: number;
  /** This run's segment number (2 for the first resume). */
  readonly segment: number;
  /** Wall time the turn ran before, in milliseconds. */
  readonly elapsedMs: number;
  /** The turn's usage so far (already handed to a commit). */
  readonly cumulativeUsage: TokenUsage;
  readonly outputRepairs: number;
}

/**
 * One turn, from the moment it is prepared to its commit: its identity, its event pipe, its one
 * abort controller, its limits and the writer of its graph, built once and handed to every step
 * (the effect loop, the model calls, the tool batches, the checkpoints, the completion) instead of
 * each step receiving the same pieces again. It owns the turn's state while the turn runs: the
 * conversation reaches the session graph only through its writer, and the structured output only
 * through its checkpoint.
 */
export class TurnContext {
  readonly core: SessionCore;
  readonly input: TurnInput;
  readonly prepared: PreparedTurn;
  readonly mode: ExecutionMode;
  readonly pipe: TurnEventPipe;
  readonly assembler: TurnAssembler;
  readonly termination: TerminationPolicy;
  readonly selection: TurnModelSelection;
  readonly sessionId: string;
  readonly turnId: string;
  readonly turnIndex: number;
  /** Which run of the turn this is: 1, then one more per resume after a suspension. */
  readonly segment: number;
  /** When the turn started on this process's clock (a resumed turn's is moved back by its earlier runs). */
  readonly startedAt: number;
  readonly tracer: TurnTracer | undefined;
  readonly writer: TurnGraphWriter;
  readonly effectHost: RuntimeEffectHost;
  /** The structured output the turn asks for, and what it got (see `checkpoint`). */
  readonly output: TurnOutputRequest | undefined;
  /** Who answers the turn's approval requests: its own callback, else the runtime's, else nobody. */
  readonly approve: ApprovalHandler | undefined;
  outputValue: { readonly value: unknown } | undefined;
  /** Set when this run of the turn suspended for approval decisions (its last commit is a `suspend`). */
  suspended = false;
  /** The decided calls a resumed run executes without asking again (by call id). */
  resumeApprovals: ReadonlyMap<string, ToolCallApproval> | undefined;
  /** Set when the host cancelled the turn or its wall-time budget ran out. */
  interruption: TurnStop | undefined;
  readonly #abort = new TurnAbort();
  readonly #hostSignal: AbortSignal | undefined;
  readonly #onHostAbort = (): void => {
    this.#cancel(this.#hostSignal?.reason);
  };
  readonly #cancel = (reason: unknown): void => {
    this.interruption ??= { type: "cancelled" };
    this.#abort.abort(reason);
  };
  readonly #unbindCancellation: (() => void) | undefined;
  readonly #wallTimer: ReturnType<typeof setTimeout> | undefined;
  /** Messages `afterToolCall` hooks enqueued, delivered at the next checkpoint. */
  readonly #toolHookMessages: PluginMessage[] = [];
  #progressCount = 0;
  /**
   * A resume-safe boundary reached the graph and is not committed yet: the progress commit is made
   * before the turn's next piece of work (`WORK_EFFECTS`), and left to the final commit when the
   * turn ends first (see `boundary`).
   */
  #progressDue = false;
  /** The turn's usage already handed to a commit (see `usageSinceLastCommit`). */
  #usageHanded: TokenUsage = emptyTokenUsage();
  #outputRepairs = 0;
  #llm: LlmCallEnvironment | undefined;
  #tools: { readonly surface: ToolSurface; readonly environment: ToolBatchEnvironment } | undefined;

  constructor(init: TurnContextInit) {
    this.core = init.core;
    this.input = init.input;
    this.prepared = init.prepared;
    this.mode = init.mode;
    this.pipe = init.pipe;
    this.assembler = init.assembler;
    this.termination = init.termination;
    this.selection = init.selection;
    this.output = init.output;
    this.approve = init.approve ?? init.core.environment.core.approvals?.approve;
    this.sessionId = init.core.sessionId;
    const { resumed } = init;
    this.turnIndex = resumed?.turnIndex ?? init.core.turnIndex + 1;
    this.turnId = resumed?.turnId ?? init.input.traceTurnId ?? randomUUID();
    this.segment = resumed?.segment ?? 1;
    this.startedAt = performance.now() - (resumed?.elapsedMs ?? 0);
    if (resumed !== undefined) {
      this.#usageHanded = resumed.cumulativeUsage;
      this.#outputRepairs = resumed.outputRepairs;
    }
    const host = init.core.environment.core.effectHost;
    this.effectHost = {
      run: <Result>(invocation: EffectInvocation, execute: () => Promise<Result>): Promise<Result> =>
        this.#progressDue && WORK_EFFECTS.has(invocation.kind)
          ? this.commitDueProgress().then(() => host.run(invocation, execute))
          : host.run(invocation, execute),
    };
    init.core.lastPromptUsage = undefined;
    this.tracer = TurnTracer.start(init.core.environment.core.traceSink, init.core.environment.core.traceLevel ?? "standard", {
      sessionId: this.sessionId,
      turnId: this.turnId,
      turnIndex: this.turnIndex,
      provider: init.selection.provider.providerId,
      model: init.selection.model,
    });
    // One controller for the turn: the host's signal and the wall-time budget both abort it.
    this.#hostSignal = init.hostSignal;
    init.hostSignal?.addEventListener("abort", this.#onHostAbort, { once: true });
    if (init.hostSignal?.aborted) this.#onHostAbort();
    this.#unbindCancellation = init.cancellation?.bind(this.#cancel);
    const wallTime = init.termination.maxWallTimeMs;
    this.#wallTimer =
      wallTime === undefined
        ? undefined
        : setTimeout(
            () => {
              this.interruption ??= { type: "budget_exhausted", budget: "wall_time" };
              this.#abort.abort();
            },
            Math.max(0, wallTime - (resumed?.elapsedMs ?? 0)),
          );
    this.writer = new TurnGraphWriter(init.core.graph);
    this.writer.sync(init.prepared.messages, false);
  }

  /** The turn's signal: running tools and the provider call see it abort. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  readonly now = (): number => performance.now();

  /** Milliseconds the turn has run, earlier runs of a resumed turn included. */
  get elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  /** Structured-output repairs the turn has spent. */
  get outputRepairs(): number {
    return this.#outputRepairs;
  }

  /**
   * The id of one of the turn's commits (`progress:<n>`, `final`). A resumed run's commits carry
   * its segment, so they never reuse an id the first run committed with other content.
   */
  commitId(kind: string): string {
    return this.segment === 1 ? `${this.turnId}:${kind}` : `${this.turnId}:s${this.segment}:${kind}`;
  }

  /** Ends the turn's timers and listeners; a turn that did not complete aborts its signal for the work still in flight. */
  dispose(completed: boolean): void {
    if (this.#wallTimer !== undefined) clearTimeout(this.#wallTimer);
    // A turn that ends by a thrown failure (a sink, a store) must not leave tools running detached:
    // aborting the controller lets every in-flight tool and provider call see the end. A turn that
    // completed leaves the signal alone (work a tool started on purpose may outlive the turn).
    if (!completed && !this.#abort.aborted) this.#abort.abort(new Error("the turn failed"));
    this.#hostSignal?.removeEventListener("abort", this.#onHostAbort);
    this.#unbindCancellation?.();
  }

  /** What the turn's mode learns of it before building its prompt and driver. */
  get modeSetup(): ModeTurnSetup {
    const modeTurnOptions = this.input.modeTurnOptions ?? this.core.modeTurnOptions;
    const outputSchema = this.output?.spec.type === "json_schema" ? this.output.spec.schema : undefined;
    return { ...(modeTurnOptions === undefined ? {} : { modeTurnOptions }), ...(outputSchema === undefined ? {} : { outputSchema }) };
  }

  /** What a model call of this turn needs (built once per turn). */
  get llm(): LlmCallEnvironment {
    const modePlugins = this.mode.plugins ?? [];
    this.#llm ??= {
      provider: this.selection.provider,
      settings: providerSettings(this.core, this.selection.provider),
      attachmentStore: this.core.environment.core.attachmentStore,
      pipe: this.pipe,
      // The mode's own stream and response hooks apply to its turns only, after the runtime's.
      plugins:
        modePlugins.length === 0
          ? this.core.environment.plugins
          : new PluginHost([...this.core.environment.plugins.plugins, ...modePlugins]),
      sessionId: this.sessionId,
      maxContextTokens: this.core.policy.maxContextTokens,
      signal: this.signal,
      abort: this.#abort,
      outputSpec: this.mode.nativeStructuredOutput === false ? undefined : this.output?.spec,
      maxOutputCharacters: this.core.environment.core.maxOutputCharacters,
    };
    return this.#llm;
  }

  /** What a tool batch of this turn needs, on the turn's tool surface (built once per surface). */
  toolEnvironment(surface: ToolSurface): ToolBatchEnvironment {
    if (this.#tools?.surface !== surface) {
      this.#tools = {
        surface,
        environment: {
          surface,
          plugins: this.core.environment.plugins,
          sessionId: this.sessionId,
          turnIndex: this.turnIndex,
          sessions: this.core.sessions,
          signal: this.signal,
          abort: this.#abort,
          emit: (event) => this.pipe.session(event),
          enqueueMessages: (messages) => this.#toolHookMessages.push(...messages),
          sleep: abortableSleep,
          now: this.now,
          pipe: this.pipe,
          turnId: this.turnId,
          approve: this.approve,
          expiresInMs: this.core.environment.core.approvals?.expiresInMs,
          outputBudget: turnToolOutputBudget(this.core, toolOutputBudgetOf(this.core), this.selection.model, surface),
        },
      };
    }
    return this.#tools.environment;
  }

  /**
   * A boundary (or the end): the messages reach the session graph. With a store, a resume-safe
   * boundary becomes a due progress checkpoint, committed before the turn's next piece of work
   * (see `effectHost`): the progress effect right before the end of a turn carries what the final
   * commit carries, so a turn that ends first makes one commit less. A boundary that is not
   * resume-safe (a tool call without its result) never reaches the store: the due state is
   * committed before it.
   */
  async boundary(messages: readonly Message[], modeEvents: readonly JsonValue[], final: boolean): Promise<void> {
    const resumeSafe = this.core.store !== undefined && isResumeSafe(messages);
    if (!resumeSafe && this.#progressDue) await this.commitDueProgress();
    this.writer.sync(messages, final);
    for (const event of modeEvents) this.core.graph.appendRecord({ kind: "mode_event", event });
    if (resumeSafe) this.#progressDue = true;
  }

  /**
   * Makes the due progress commit, if any: a checkpoint (ADR 0030) with the usage recorded since
   * the last commit. A failure is not fatal: the next commit carries everything.
   */
  async commitDueProgress(): Promise<void> {
    if (!this.#progressDue) return;
    this.#progressDue = false;
    this.#progressCount += 1;
    try {
      // The usage of the model calls behind these messages goes in the same commit: a process
      // killed before the final commit leaves no stored answer whose tokens the ledger lacks.
      await this.core.commit(this.commitId(`progress:${this.#progressCount}`), this.usageSinceLastCommit(), "checkpoint");
    } catch {
      // A failed progress boundary is not fatal: the final commit carries everything.
    }
  }

  /**
   * Called once the effect loop is over, before the completion changes the session: the due
   * progress commit is committed when `afterTurn` hooks run before the final commit (they may fail
   * or take long, and the answer should be stored meanwhile), else dropped, because the final
   * commit carries the same state.
   */
  async beforeCompletion(hooksRunFirst: boolean): Promise<void> {
    if (hooksRunFirst) await this.commitDueProgress();
    this.#progressDue = false;
  }

  /**
   * The usage deltas not yet handed to a commit: the turn's model calls since the last one, and
   * the usage child sessions reported meanwhile. Once handed over, the session core keeps them
   * pending until a commit lands (a failed commit leaves them for the next one).
   */
  usageSinceLastCommit(): TokenLedgerEntry[] {
    const turnUsage = this.assembler.tokenUsage;
    const fresh = subtractTokenUsage(turnUsage, this.#usageHanded);
    this.#usageHanded = turnUsage;
    return mergeTokenLedger(
      this.core.sessions.drainSharedLedger(),
      isEmptyTokenUsage(fresh) ? [] : [{ source: "turn", model: this.selection.model, usage: fresh }],
    );
  }

  recordToolCalls(records: readonly ToolCallRecord[]): void {
    this.writer.recordToolCalls(records);
  }

  /**
   * A checkpoint: queued input and plugin hooks first. When nothing continues the turn at a
   * `before_completion` checkpoint, the answer is final, and a turn that asked for structured
   * output checks it here: a valid one becomes the turn's output; one the schema refuses goes back
   * to the model with the problem while repairs remain, else the turn stops `invalid_output`.
   */
  async checkpoint(
    effect: Extract<TurnEffect, { type: "checkpoint" }>,
    modeIteration: number,
    messages: readonly Message[],
  ): Promise<CheckpointResult> {
    const result = await runCheckpoint(effect.kind, modeIteration, messages, {
      sessionId: this.sessionId,
      plugins: this.core.environment.plugins,
      pipe: this.pipe,
      sessions: this.core.sessions,
      turnInjection: this.core.turnInjection,
      inputInjection: this.core.inputInjection,
      takeToolHookMessages: () => this.#toolHookMessages.splice(0),
    });
    const continues = !result.ok || result.committed.length > 0 || result.transient.length > 0;
    const output = this.output;
    if (output === undefined || effect.kind !== "before_completion" || continues) return result;
    const check = await checkOutput(output, answerText(messages.at(-1)));
    if (check.ok) {
      this.outputValue = { value: check.value };
      return result;
    }
    if (this.#outputRepairs >= output.repairAttempts) {
      const message = `The final answer does not match the output schema: ${check.problem}`;
      return { ok: false, code: "invalid_output", message, abort: false, kind: "output_validation", stop: { type: "invalid_output" } };
    }
    this.#outputRepairs += 1;
    const message = `The answer did not match the output schema (asking the model to fix it): ${check.problem}`;
    await deliver(
      this.pipe.session({ type: "error", message, envelope: { kind: "output_validation", code: "invalid_output", userMessage: message } }),
    );
    return { ok: true, committed: [repairMessage(check.problem)], transient: [] };
  }

  /** Rebuilds the prompt and tool specs (a mode that changes its surface between iterations). */
  async syncSurface(): Promise<SurfaceSyncResult> {
    try {
      const rebuilt = await buildTurnSurface(this.core, this.mode, this.input, this.prepared, this.modeSetup);
      return { ok: true, systemPrompt: rebuilt.systemPrompt, toolSpecs: rebuilt.toolSpecs };
    } catch (error) {
      return { ok: false, message: errorMessage(error) };
    }
  }
}
