import type {
  GraphCommitDelta,
  Message,
  PersistedSessionConfig,
  SessionCheckpoint,
  SessionCommit,
  SessionMeta,
  SessionNodeRecord,
  SessionRelation,
  SessionStoreCreateRequest,
  TokenLedgerEntry,
  TokenUsage,
} from "@lash/protocol";

/**
 * Builders for the data the conformance suite commits. Every value has the shape of the real
 * `@lash/protocol` schemas (defaulted fields are spelled out), so a store that validates what it is
 * given or what it reads back sees exactly these values. `fixtures.test.ts` checks that.
 */

/** A fixed timestamp: node timestamps are data to the store, and the suite never asserts time. */
export const FIXED_TIMESTAMP = "2025-01-01T00:00:00.000Z";

/** The model named in configs, usage entries and metas unless a test names another. */
export const FIXTURE_MODEL = "conformance-model";

/** A usage with the four counts in schema order. */
export function usage(inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): TokenUsage {
  return { inputTokens, outputTokens, cachedInputTokens, reasoningTokens };
}

/** One usage delta of a commit (`source` names who spent the tokens). */
export function ledgerEntry(source: string, value: TokenUsage, model = FIXTURE_MODEL): TokenLedgerEntry {
  return { source, model, usage: value };
}

/** The session config written with every commit. */
export function sessionConfig(overrides: Partial<PersistedSessionConfig> = {}): PersistedSessionConfig {
  return { providerId: "conformance-provider", model: FIXTURE_MODEL, contextWindow: 200_000, executionMode: "standard", ...overrides };
}

export interface CheckpointOptions {
  readonly turnIndex?: number;
  readonly tokenUsage?: TokenUsage;
  /** Adds mode-owned execution state and plugin snapshots (nested JSON of every kind). */
  readonly withSnapshots?: boolean;
}

/** A checkpoint; distinct turn indexes give distinct (content-addressed) checkpoints. */
export function checkpoint(options: CheckpointOptions = {}): SessionCheckpoint {
  const turnIndex = options.turnIndex ?? 1;
  const tokenUsage = options.tokenUsage ?? usage(120, 30, 40, 5);
  const value: SessionCheckpoint = {
    schemaVersion: 1,
    turnState: {
      turnIndex,
      tokenUsage,
      lastPromptUsage: { promptContextTokens: 160, inputTokens: 120, cachedInputTokens: 40, contextBudgetTokens: 190 },
      modeTurnOptions: { modeId: "standard", payload: { termination: "auto" } },
    },
  };
  if (options.withSnapshots === true) {
    value.executionState = {
      bindings: { answer: 42, ratio: 0.25, negative: -7, name: "lash", flags: [true, false, null] },
      history: [],
      empty: {},
    };
    value.pluginSnapshots = {
      "plan-tracker": { steps: [{ title: "look up", done: true }], revision: turnIndex },
      memory: { notes: ["first", "second"] },
    };
  }
  return value;
}

export interface MessageNodeOptions {
  readonly parentNodeId?: string;
  readonly role?: Message["role"];
  readonly text?: string;
}

/** A message node; its node id is the message id (the runtime's convention). */
export function messageNode(nodeId: string, options: MessageNodeOptions = {}): SessionNodeRecord {
  const role = options.role ?? "user";
  const text = options.text ?? `text of ${nodeId}`;
  const message: Message =
    role === "assistant"
      ? { id: nodeId, role, parts: [{ kind: "prose", id: `${nodeId}.p0`, content: text }] }
      : { id: nodeId, role, parts: [{ kind: "text", id: `${nodeId}.p0`, content: text }] };
  return withParent({ nodeId, timestamp: FIXED_TIMESTAMP, payload: { kind: "message", message } }, options.parentNodeId);
}

/** A chain of message nodes `prefix-0 ← prefix-1 ← ...`, the first one under `parentNodeId`. */
export function messageChain(prefix: string, count: number, parentNodeId?: string): SessionNodeRecord[] {
  const nodes: SessionNodeRecord[] = [];
  let parent = parentNodeId;
  for (let index = 0; index < count; index += 1) {
    const nodeId = `${prefix}-${index}`;
    nodes.push(messageNode(nodeId, parent === undefined ? {} : { parentNodeId: parent }));
    parent = nodeId;
  }
  return nodes;
}

/** The node ids of the turn that `turnNodes(turnKey)` builds, in append order. */
export function turnNodeIds(turnKey: string): { user: string; call: string; tool: string; answer: string } {
  return { user: `${turnKey}.user`, call: `${turnKey}.call`, tool: `tool:call-${turnKey}`, answer: `${turnKey}.answer` };
}

/**
 * The four nodes of a realistic turn with a tool call: the user's question, the assistant's message
 * calling a tool, the tool invocation, and the assistant's answer. Each node's parent is the one
 * before it; the first one hangs under `parentNodeId`.
 */
export function turnNodes(turnKey: string, parentNodeId?: string): SessionNodeRecord[] {
  const ids = turnNodeIds(turnKey);
  const callId = `call-${turnKey}`;
  const user = withParent(
    {
      nodeId: ids.user,
      timestamp: FIXED_TIMESTAMP,
      payload: {
        kind: "message",
        message: { id: ids.user, role: "user", parts: [{ kind: "text", id: `${ids.user}.p0`, content: "What is the weather in Lisbon?" }] },
      },
    },
    parentNodeId,
  );
  const call: SessionNodeRecord = {
    nodeId: ids.call,
    parentNodeId: ids.user,
    timestamp: FIXED_TIMESTAMP,
    payload: {
      kind: "message",
      message: {
        id: ids.call,
        role: "assistant",
        parts: [
          {
            kind: "reasoning",
            id: `${ids.call}.p0`,
            content: "The user wants current weather.",
            replay: { redacted: false, summary: ["weather lookup"] },
          },
          { kind: "prose", id: `${ids.call}.p1`, content: "Let me look that up.", responseMeta: { id: "resp-1", phase: "commentary" } },
          { kind: "tool_call", id: `${ids.call}.p2`, callId, toolName: "weather", inputJson: '{"city":"Lisbon"}' },
        ],
      },
    },
  };
  const tool: SessionNodeRecord = {
    nodeId: ids.tool,
    parentNodeId: ids.call,
    timestamp: FIXED_TIMESTAMP,
    payload: {
      kind: "tool_invocation",
      stableKey: callId,
      record: {
        callId,
        tool: "weather",
        args: { city: "Lisbon" },
        output: { outcome: { status: "success", payload: { temperatureC: 21.5, sky: "clear", alerts: [] } } },
        durationMs: 12,
      },
    },
  };
  const answer: SessionNodeRecord = {
    nodeId: ids.answer,
    parentNodeId: ids.tool,
    timestamp: FIXED_TIMESTAMP,
    payload: {
      kind: "message",
      message: {
        id: ids.answer,
        role: "assistant",
        parts: [
          { kind: "prose", id: `${ids.answer}.p0`, content: "It is 21.5 °C and clear in Lisbon.", responseMeta: { phase: "final_answer" } },
        ],
      },
    },
  };
  return [user, call, tool, answer];
}

/** `append` of `nodes`; the leaf is the last node unless given (pass `null` for no leaf). */
export function appendDelta(nodes: SessionNodeRecord[], leafNodeId?: string | null): GraphCommitDelta {
  const leaf = leafNodeId === null ? undefined : (leafNodeId ?? nodes.at(-1)?.nodeId);
  return leaf === undefined ? { type: "append", nodes } : { type: "append", nodes, leafNodeId: leaf };
}

/** `unchanged`, optionally moving the leaf. */
export function unchangedDelta(leafNodeId?: string): GraphCommitDelta {
  return leafNodeId === undefined ? { type: "unchanged" } : { type: "unchanged", leafNodeId };
}

/** `replace_full` with `nodes`; the leaf is the last node unless given (pass `null` for no leaf). */
export function replaceFullDelta(nodes: SessionNodeRecord[], leafNodeId?: string | null): GraphCommitDelta {
  const leaf = leafNodeId === null ? undefined : (leafNodeId ?? nodes.at(-1)?.nodeId);
  return { type: "replace_full", graph: leaf === undefined ? { nodes } : { nodes, leafNodeId: leaf } };
}

export interface CommitOptions {
  readonly sessionId: string;
  readonly commitId: string;
  /** Omitted (not set to `undefined`) when absent: a first commit. */
  readonly expectedHeadRevision?: number;
  readonly graph?: GraphCommitDelta;
  readonly usageDeltas?: TokenLedgerEntry[];
  readonly checkpoint?: SessionCheckpoint;
  readonly config?: PersistedSessionConfig;
}

/** A commit; by default an `unchanged` delta without usage. */
export function sessionCommit(options: CommitOptions): SessionCommit {
  const commit: SessionCommit = {
    sessionId: options.sessionId,
    commitId: options.commitId,
    config: options.config ?? sessionConfig(),
    graph: options.graph ?? unchangedDelta(),
    checkpoint: options.checkpoint ?? checkpoint(),
    usageDeltas: options.usageDeltas ?? [],
  };
  if (options.expectedHeadRevision !== undefined) commit.expectedHeadRevision = options.expectedHeadRevision;
  return commit;
}

export interface TurnCommitOptions {
  readonly sessionId: string;
  /** Names the turn: node ids derive from it and the commit id is `{turnKey}:final`. */
  readonly turnKey: string;
  readonly expectedHeadRevision?: number;
  /** The node the turn's first node hangs under (the previous turn's answer). */
  readonly parentNodeId?: string;
  readonly turnIndex?: number;
  /** The turn's usage, committed as one `turn` entry (default 100 in, 20 out, 30 cached, 4 reasoning). */
  readonly usage?: TokenUsage;
  readonly model?: string;
}

/**
 * The final commit of a realistic turn: appends the four `turnNodes`, moves the leaf to the answer,
 * writes a checkpoint with snapshots and the turn's usage.
 */
export function turnCommit(options: TurnCommitOptions): SessionCommit {
  const turnUsage = options.usage ?? usage(100, 20, 30, 4);
  const model = options.model ?? FIXTURE_MODEL;
  return sessionCommit({
    sessionId: options.sessionId,
    commitId: `${options.turnKey}:final`,
    ...(options.expectedHeadRevision === undefined ? {} : { expectedHeadRevision: options.expectedHeadRevision }),
    config: sessionConfig({ model }),
    graph: appendDelta(turnNodes(options.turnKey, options.parentNodeId)),
    checkpoint: checkpoint({ turnIndex: options.turnIndex ?? 1, tokenUsage: turnUsage, withSnapshots: true }),
    usageDeltas: [ledgerEntry("turn", turnUsage, model)],
  });
}

export interface MetaOptions {
  readonly relation?: SessionRelation;
  readonly sessionName?: string;
  readonly model?: string;
  readonly cwd?: string;
}

/** Listing data; `parentSessionId` follows the relation (child and handoff relations name a parent). */
export function sessionMeta(sessionId: string, options: MetaOptions = {}): SessionMeta {
  const relation = options.relation ?? { type: "root" };
  const meta: SessionMeta = {
    sessionId,
    sessionName: options.sessionName ?? sessionId,
    createdAt: FIXED_TIMESTAMP,
    model: options.model ?? FIXTURE_MODEL,
    relation,
  };
  if (relation.type !== "root") meta.parentSessionId = relation.parentSessionId;
  if (options.cwd !== undefined) meta.cwd = options.cwd;
  return meta;
}

/** A child relation (a subagent-style session the parent drives). */
export function childRelation(parentSessionId: string): SessionRelation {
  return { type: "child", parentSessionId, originatingToolCallId: `call-spawn-${parentSessionId}` };
}

/** A handoff relation (a successor that takes over the parent's future turns). */
export function handoffRelation(parentSessionId: string): SessionRelation {
  return {
    type: "handoff",
    parentSessionId,
    reason: "context window full",
    metadata: { summary: "handed over", turns: 12, nested: { ok: true } },
  };
}

/** A `factory.createStore` request for `sessionId`. */
export function createRequest(
  sessionId: string,
  relation: SessionRelation = { type: "root" },
  model = FIXTURE_MODEL,
): SessionStoreCreateRequest {
  const request: SessionStoreCreateRequest = {
    sessionId,
    relation,
    policy: { sessionId, providerId: "conformance-provider", model, maxContextTokens: 200_000, executionMode: "standard" },
  };
  if (relation.type !== "root") request.parentSessionId = relation.parentSessionId;
  return request;
}

function withParent(record: SessionNodeRecord, parentNodeId: string | undefined): SessionNodeRecord {
  return parentNodeId === undefined ? record : { ...record, parentNodeId };
}
