import { randomUUID } from "node:crypto";
import { defineTool, type SessionBackgroundTasks, SessionManager, textInput } from "@lash/core";
import type {
  ApprovalRequest,
  AssembledTurn,
  BackgroundTaskRecord,
  JsonValue,
  ToolContext,
  ToolDefinition,
  ToolProvider,
} from "@lash/protocol";
import { isTerminalBackgroundTaskState, LashError, ToolError } from "@lash/protocol";
import { z } from "zod";
import { type ResolvedSubagentOptions, resolveSubagentOptions, type SubagentOptions } from "./subagent-options.js";
import { awaitingApprovals, subagentOutcome, subagentReport, waitingReport } from "./subagent-outcome.js";

/** The producer of subagent tasks, and the prefix of their task ids (`subagent:<child session id>`). */
export const SUBAGENT_PRODUCER = "subagent";
/** The ledger source of a subagent's usage in its parent. */
export const SUBAGENT_USAGE_SOURCE = "subagent";
/** The reason recorded when a parent turn's cancellation stops its children. */
export const PARENT_TURN_CANCELLED = "parent turn cancelled";

const taskIdOf = (agentId: string): string => `${SUBAGENT_PRODUCER}:${agentId}`;

/** What the tools need from the calling session. */
interface CallerSession {
  readonly manager: SessionManager;
  readonly tasks: SessionBackgroundTasks;
}

function callerSession(context: ToolContext): CallerSession {
  const manager = context.sessions;
  if (!(manager instanceof SessionManager)) {
    throw new ToolError({
      class: "unavailable",
      code: "subagents_unavailable",
      message: "subagents need a lash runtime session (this tool was called outside one)",
    });
  }
  const tasks = manager.backgroundTasks;
  if (tasks === undefined) {
    throw new ToolError({
      class: "unavailable",
      code: "subagents_unavailable",
      message:
        "subagents require background-task support: configure a BackgroundTaskHost (RuntimeEnvironmentBuilder.withBackgroundTaskHost) before adding the subagent tools",
    });
  }
  return { manager, tasks };
}

/** The arguments of `spawn_agent`. */
interface SpawnInput {
  readonly task: string;
  readonly model?: string | undefined;
  readonly tools?: string[] | undefined;
}

/** The shared state of one set of subagent tools: nesting depth per session, and what was already awaited. */
class SubagentController {
  readonly options: ResolvedSubagentOptions;
  readonly #depths = new Map<string, number>();
  readonly #awaited = new Set<string>();
  /** Spawns of one session run one at a time, so parallel calls cannot both pass the fan-out check. */
  readonly #spawning = new Map<string, Promise<unknown>>();
  /** The approval requests each waiting subagent's turn is suspended on. */
  readonly #waiting = new Map<string, readonly ApprovalRequest[]>();
  /** Who is told when a subagent starts waiting for approval (`await_agent` returns then). */
  readonly #waitingListeners = new Map<string, Set<() => void>>();

  constructor(options: ResolvedSubagentOptions) {
    this.options = options;
  }

  depthOf(sessionId: string): number {
    return this.#depths.get(sessionId) ?? 0;
  }

  spawn(input: SpawnInput, context: ToolContext): Promise<JsonValue> {
    const previous = this.#spawning.get(context.sessionId) ?? Promise.resolve();
    const next = previous.then(
      () => this.#spawnNow(input, context),
      () => this.#spawnNow(input, context),
    );
    const settled = next.catch(() => undefined);
    this.#spawning.set(context.sessionId, settled);
    void settled.then(() => {
      if (this.#spawning.get(context.sessionId) === settled) this.#spawning.delete(context.sessionId);
    });
    return next;
  }

  async #spawnNow(input: SpawnInput, context: ToolContext): Promise<JsonValue> {
    const { manager, tasks } = callerSession(context);
    const depth = this.depthOf(context.sessionId) + 1;
    if (depth > this.options.maxDepth) {
      throw new ToolError({
        class: "invalid_request",
        code: "subagent_depth_exceeded",
        message: `subagent depth limit reached: session \`${context.sessionId}\` is at depth ${depth - 1} and subagents may nest at most ${this.options.maxDepth} deep`,
      });
    }
    const live = await tasks.list({ kind: "subagent" });
    if (live.length >= this.options.maxLiveChildren) {
      throw new ToolError({
        class: "invalid_request",
        code: "subagent_fan_out_exceeded",
        message: `subagent fan-out limit reached: session \`${context.sessionId}\` already has ${live.length} live subagents (at most ${this.options.maxLiveChildren}); await or cancel one first`,
      });
    }
    const agentId = `subagent-${randomUUID()}`;
    const model = input.model ?? this.options.defaultModel;
    try {
      await manager.createSession(
        {
          sessionId: agentId,
          relation: {
            type: "child",
            parentSessionId: context.sessionId,
            ...(context.callId === undefined ? {} : { originatingToolCallId: context.callId }),
          },
          usageSource: SUBAGENT_USAGE_SOURCE,
          ...(model === undefined ? {} : { policy: { model } }),
        },
        input.tools === undefined ? {} : { tools: input.tools },
      );
    } catch (error) {
      if (LashError.isInstance(error) && error.code === "session_manager") {
        throw new ToolError({ class: "invalid_request", code: "subagent_rejected", message: error.message }, { cause: error });
      }
      throw error;
    }
    this.#depths.set(agentId, depth);
    const taskId = taskIdOf(agentId);
    // A cancelled parent turn stops the children it started (they are cooperative tasks).
    const onParentCancelled = (): void => {
      void tasks.cancel(taskId, PARENT_TURN_CANCELLED).catch(() => undefined);
    };
    let record: BackgroundTaskRecord;
    try {
      record = await tasks.spawn(
        {
          id: taskId,
          kind: "subagent",
          producer: SUBAGENT_PRODUCER,
          childSessionId: agentId,
          cancelPolicy: "cooperative",
          closePolicy: "cancel",
        },
        async (work) => {
          try {
            let turn: AssembledTurn = await manager.startTurn(agentId, textInput(input.task), { signal: work.signal }).result;
            // A child turn that waits for a person's decision does not fail the task: the task
            // waits too, until someone resumes the child (`sessions.resumeTurn`), then goes on.
            for (let approvals = awaitingApprovals(turn); approvals !== undefined; approvals = awaitingApprovals(turn)) {
              const next = manager.nextTurn(agentId, work.signal);
              this.#setWaiting(agentId, approvals);
              await work.setLiveState("waiting");
              await work.progress(`waiting for approval: ${approvals.map((request) => `${request.id} (${request.tool})`).join(", ")}`);
              turn = await next;
              this.#setWaiting(agentId, undefined);
              await work.setLiveState("running");
            }
            return subagentOutcome(turn, this.options.summaryLength);
          } finally {
            this.#setWaiting(agentId, undefined);
            context.signal.removeEventListener("abort", onParentCancelled);
            this.#depths.delete(agentId);
            await manager.closeSession(agentId).catch(() => undefined);
          }
        },
      );
    } catch (error) {
      this.#depths.delete(agentId);
      await manager.closeSession(agentId).catch(() => undefined);
      throw error;
    }
    context.signal.addEventListener("abort", onParentCancelled, { once: true });
    if (context.signal.aborted) onParentCancelled();
    return { agent_id: agentId, state: record.state };
  }

  async await(agentId: string | undefined, context: ToolContext): Promise<JsonValue> {
    const { tasks } = callerSession(context);
    if (agentId !== undefined) return await this.#waitFor(tasks, agentId, context);
    const pending = (await tasks.list({ kind: "subagent", includeTerminal: true })).filter(
      (record) => !isTerminalBackgroundTaskState(record.state) || !this.#awaited.has(record.id),
    );
    const reports = await Promise.all(pending.map((record) => this.#waitFor(tasks, record.childSessionId ?? record.id, context)));
    return { agents: reports };
  }

  #setWaiting(agentId: string, approvals: readonly ApprovalRequest[] | undefined): void {
    if (approvals === undefined) {
      this.#waiting.delete(agentId);
      return;
    }
    this.#waiting.set(agentId, approvals);
    const listeners = this.#waitingListeners.get(agentId);
    this.#waitingListeners.delete(agentId);
    for (const listener of listeners ?? []) listener();
  }

  /** Resolves when the subagent starts waiting for approval (at once when it already waits). */
  #whenWaiting(agentId: string): { readonly promise: Promise<void>; readonly dispose: () => void } {
    if (this.#waiting.has(agentId)) return { promise: Promise.resolve(), dispose: () => {} };
    const listeners = this.#waitingListeners.get(agentId) ?? new Set();
    this.#waitingListeners.set(agentId, listeners);
    let listener: () => void = () => {};
    const promise = new Promise<void>((resolve) => {
      listener = resolve;
      listeners.add(listener);
    });
    return { promise, dispose: () => listeners.delete(listener) };
  }

  async cancel(agentId: string, context: ToolContext): Promise<JsonValue> {
    const { tasks } = callerSession(context);
    await this.#known(tasks, agentId);
    await tasks.cancel(taskIdOf(agentId), "cancelled by the parent agent");
    return subagentReport(await tasks.waitFor(taskIdOf(agentId), context.signal));
  }

  async list(context: ToolContext): Promise<JsonValue> {
    const { tasks } = callerSession(context);
    const records = await tasks.list({ kind: "subagent", includeTerminal: true });
    return { agents: records.map((record) => ({ agent_id: record.childSessionId ?? record.id, state: record.state })) };
  }

  async #known(tasks: SessionBackgroundTasks, agentId: string): Promise<BackgroundTaskRecord> {
    const record = await tasks.get(taskIdOf(agentId));
    if (record === undefined) {
      throw new ToolError({
        class: "not_found",
        code: "unknown_agent",
        message: `unknown agent \`${agentId}\` (list_agents shows this session's agents)`,
      });
    }
    return record;
  }

  /**
   * The subagent's report once it ended, or as soon as it waits for approval (the parent can say
   * so and end its turn; the wait for the decision may be long).
   */
  async #waitFor(tasks: SessionBackgroundTasks, agentId: string, context: ToolContext): Promise<JsonValue> {
    await this.#known(tasks, agentId);
    const waiting = this.#whenWaiting(agentId);
    try {
      const ended = await Promise.race([tasks.waitFor(taskIdOf(agentId), context.signal), waiting.promise.then(() => undefined)]);
      if (ended === undefined) return waitingReport(agentId, this.#waiting.get(agentId) ?? []);
      this.#awaited.add(ended.id);
      return subagentReport(ended);
    } finally {
      waiting.dispose();
    }
  }
}

/**
 * The subagent tools (standard mode): `spawn_agent`, `await_agent`, `cancel_agent`, `list_agents`.
 * A subagent is a child session (relation `child`, its store from the environment's store factory)
 * whose turn runs as a background task of kind `subagent` (id `subagent:<agent id>`, cooperative
 * cancel, cancelled when its parent session closes). Its usage reaches the parent live as
 * `child_usage` activities, in `AssembledTurn.childrenUsage`, and in the parent's ledger under
 * source `subagent`. A cancelled parent turn cancels the subagents it spawned. Needs a
 * `BackgroundTaskHost` in the runtime (the tools fail with `subagents_unavailable` otherwise).
 *
 * @example
 * const environment = RuntimeEnvironment.builder()
 *   .withProvider(provider)
 *   .withBackgroundTaskHost(new LocalBackgroundTaskHost())
 *   .withToolProvider(createSubagentTools({ maxDepth: 2 }))
 *   .build();
 */
export function createSubagentTools(options: SubagentOptions = {}): ToolProvider {
  const controller = new SubagentController(resolveSubagentOptions(options));
  const tools: ToolDefinition<unknown>[] = [
    defineTool({
      name: "spawn_agent",
      description:
        "Start a subagent on a task in the background and return its agent_id at once. Optionally pick its model and the tools it may use. Collect its answer later with await_agent.",
      inputSchema: z.object({
        task: z.string().min(1).describe("What the subagent should do; it sees only this text."),
        model: z.string().min(1).optional().describe("The model the subagent runs on (default: yours)."),
        tools: z.array(z.string().min(1)).optional().describe("The only tools the subagent may use (default: all of yours)."),
      }),
      execute: (input, context) => controller.spawn(input, context),
    }) as ToolDefinition<unknown>,
    defineTool({
      name: "await_agent",
      description:
        "Wait for one subagent (agent_id) or, without agent_id, for every subagent not awaited yet, and return their final output.",
      inputSchema: z.object({ agent_id: z.string().min(1).optional() }),
      execute: (input, context) => controller.await(input.agent_id, context),
    }) as ToolDefinition<unknown>,
    defineTool({
      name: "cancel_agent",
      description: "Cancel a running subagent and return its final state.",
      inputSchema: z.object({ agent_id: z.string().min(1) }),
      execute: (input, context) => controller.cancel(input.agent_id, context),
    }) as ToolDefinition<unknown>,
    defineTool({
      name: "list_agents",
      description: "List this session's subagents and their states.",
      inputSchema: z.object({}),
      execute: (_input, context) => controller.list(context),
    }) as ToolDefinition<unknown>,
  ];
  return { listTools: () => tools };
}
