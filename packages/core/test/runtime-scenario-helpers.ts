// Helpers shared by the runtime scenario tests (sessions, child sessions, projection, effect host).
import type {
  LlmRequest,
  Message,
  PersistedSessionState,
  SessionCommit,
  SessionCommitResult,
  SessionNodeRecord,
  SessionStore,
  SessionStoreCreateRequest,
  SessionStoreFactory,
} from "@lash/protocol";
import { type EffectInvocation, InMemorySessionStore, type RuntimeEffectHost, type TurnMachineSnapshot } from "../src/index.js";
import { MODEL } from "./fixtures.js";

/** A user message with one text part. */
export function userMessage(id: string, text: string): Message {
  return { id, role: "user", parts: [{ kind: "text", id: `${id}.p0`, content: text }] };
}

/** An assistant message with one prose part. */
export function assistantMessage(id: string, text: string): Message {
  return { id, role: "assistant", parts: [{ kind: "prose", id: `${id}.p0`, content: text }] };
}

/** A persisted session snapshot holding `messages` as a linear history, at `turnIndex`. */
export function persistedState(
  options: { sessionId?: string; turnIndex?: number; messages?: readonly Message[] } = {},
): PersistedSessionState {
  const sessionId = options.sessionId ?? "root";
  const nodes: SessionNodeRecord[] = [];
  let parent: string | undefined;
  for (const message of options.messages ?? []) {
    const node: SessionNodeRecord =
      parent === undefined
        ? { nodeId: message.id, timestamp: "2024-01-01T00:00:00.000Z", payload: { kind: "message", message } }
        : { nodeId: message.id, parentNodeId: parent, timestamp: "2024-01-01T00:00:00.000Z", payload: { kind: "message", message } };
    nodes.push(node);
    parent = message.id;
  }
  return {
    schemaVersion: 1,
    sessionId,
    policy: { sessionId, providerId: "mock", model: MODEL, maxContextTokens: 200_000, executionMode: "standard" },
    sessionGraph: parent === undefined ? { nodes } : { nodes, leafNodeId: parent },
    turnIndex: options.turnIndex ?? 0,
    tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 },
    tokenLedger: [],
  };
}

/** The text of a message's text, prose and tool-result parts, concatenated. */
export function textOf(message: Message): string {
  return message.parts.map((part) => ("content" in part ? part.content : "")).join("");
}

/** The concatenated text blocks of every message of `role` in a model request, one string per message. */
export function requestTexts(request: LlmRequest | undefined, role: "user" | "assistant" | "system"): string[] {
  return (request?.messages ?? [])
    .filter((message) => message.role === role)
    .map((message) => message.blocks.map((block) => (block.type === "text" ? block.text : "")).join(""));
}

/** The messages held by a graph's message nodes, in node order. */
export function graphMessages(nodes: readonly SessionNodeRecord[]): Message[] {
  return nodes.flatMap((node) => (node.payload.kind === "message" ? [node.payload.message] : []));
}

/** What a recording effect host saw of one effect. */
export interface RecordedInvocation extends Omit<EffectInvocation, "machineSnapshot"> {
  readonly snapshot: TurnMachineSnapshot;
  result?: unknown;
}

/** An effect host that records every invocation (with its machine snapshot) and delegates to `execute`. */
export class RecordingEffectHost implements RuntimeEffectHost {
  readonly invocations: RecordedInvocation[] = [];

  async run<T>(invocation: EffectInvocation, execute: () => Promise<T>): Promise<T> {
    const recorded: RecordedInvocation = {
      kind: invocation.kind,
      effectId: invocation.effectId,
      idempotencyKey: invocation.idempotencyKey,
      sessionId: invocation.sessionId,
      turnId: invocation.turnId,
      turnIndex: invocation.turnIndex,
      modeIteration: invocation.modeIteration,
      snapshot: invocation.machineSnapshot(),
    };
    this.invocations.push(recorded);
    const result = await execute();
    recorded.result = result;
    return result;
  }

  ofKind(kind: EffectInvocation["kind"]): RecordedInvocation[] {
    return this.invocations.filter((invocation) => invocation.kind === kind);
  }
}

/**
 * A durable-style effect host: it journals every effect's result (as JSON) under its idempotency key
 * and, when a key was already journaled, returns the recorded result without running the effect.
 */
export class JournalingEffectHost implements RuntimeEffectHost {
  readonly journal = new Map<string, string>();
  readonly executed: string[] = [];
  readonly replayed: string[] = [];

  async run<T>(invocation: EffectInvocation, execute: () => Promise<T>): Promise<T> {
    const recorded = this.journal.get(invocation.idempotencyKey);
    if (recorded !== undefined) {
      this.replayed.push(invocation.idempotencyKey);
      return JSON.parse(recorded) as T;
    }
    const result = await execute();
    this.executed.push(invocation.idempotencyKey);
    this.journal.set(invocation.idempotencyKey, JSON.stringify(result));
    return result;
  }
}

/** A store that keeps a copy of every commit it receives (and its result). */
export class CapturingStore extends InMemorySessionStore {
  readonly commits: { commit: SessionCommit; result: SessionCommitResult }[] = [];

  override async commit(commit: SessionCommit): Promise<SessionCommitResult> {
    const copy = structuredClone(commit);
    const result = await super.commit(commit);
    this.commits.push({ commit: copy, result });
    return result;
  }
}

/** A store factory that opens one in-memory store per session and remembers the requests. */
export class RecordingStoreFactory implements SessionStoreFactory {
  readonly requests: SessionStoreCreateRequest[] = [];
  readonly stores = new Map<string, InMemorySessionStore>();

  async createStore(request: SessionStoreCreateRequest): Promise<SessionStore> {
    this.requests.push(request);
    const store = new InMemorySessionStore();
    this.stores.set(request.sessionId, store);
    return store;
  }
}
