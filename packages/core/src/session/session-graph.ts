import type {
  GraphCommitDelta,
  Message,
  SessionGraph,
  SessionNodePayload,
  SessionNodeRecord,
  ToolCallRecord,
  TurnStop,
} from "@lash/protocol";
import { LashError, stableStringify } from "@lash/protocol";
import { freshHexId, freshMessageId, nowIso, sha256Hex, takeUnappendedMessageId } from "./ids.js";
import { isTransientMessage } from "./message-text.js";

/** The stable key of a tool call: its call id, or a content hash for calls without one. */
export function toolCallStableKey(record: ToolCallRecord): string {
  if (record.callId) return record.callId;
  const digest = sha256Hex(stableStringify([record.tool, record.args, record.output]));
  return `anon-${digest.slice(0, 12)}`;
}

/** How `SessionGraphEditor.from` treats the nodes it is given. */
export interface GraphEditorOptions {
  /**
   * The graph is only the stored session's active path (`active_path_only` residency): the editor
   * never produces a `replace_full` delta, which would delete every off-path node from the store.
   */
  readonly partial?: boolean;
  /** The nodes are not in the store yet (a seeded session): the next delta appends all of them. */
  readonly uncommitted?: boolean;
}

/**
 * A mutable session graph: an append-only list of nodes forming a tree, plus the leaf that selects
 * the active branch. It tracks which nodes were appended since the last commit so that commits can
 * send only the delta.
 */
export class SessionGraphEditor {
  #nodes: SessionNodeRecord[];
  #positions: Map<string, number>;
  #leafNodeId: string | undefined;
  #activePath: SessionNodeRecord[] | undefined;
  /** `activeMessages` of `path`, as far as its first `scanned` nodes. */
  #activeMessages: { path: readonly SessionNodeRecord[]; scanned: number; messages: Message[]; seen: Set<string> } | undefined;
  #uncommitted: SessionNodeRecord[] = [];
  #replaceRequired = false;
  /** Bumped by every `requireFullReplace`, so a commit in flight cannot clear a newer requirement. */
  #replaceGeneration = 0;
  #partial = false;
  /**
   * Ids of the uncommitted nodes appended here under an id drawn at random for them (a message built
   * with a fresh id, a record): no store holds such an id, whatever branch it is on.
   */
  #freshNodeIds = new Set<string>();

  private constructor(nodes: SessionNodeRecord[], leafNodeId: string | undefined) {
    this.#nodes = nodes;
    this.#positions = new Map(nodes.map((node, position) => [node.nodeId, position]));
    this.#leafNodeId = leafNodeId;
  }

  /**
   * An editor over a copy of `graph`'s node list; every node counts as already committed unless
   * `options.uncommitted`.
   */
  static from(graph: SessionGraph, options: GraphEditorOptions = {}): SessionGraphEditor {
    const editor = new SessionGraphEditor([...graph.nodes], graph.leafNodeId);
    if (options.uncommitted) editor.#uncommitted = [...graph.nodes];
    editor.#partial = options.partial ?? false;
    return editor;
  }

  static empty(): SessionGraphEditor {
    return new SessionGraphEditor([], undefined);
  }

  /** An independent copy (uncommitted nodes stay uncommitted in the copy). */
  clone(): SessionGraphEditor {
    const copy = new SessionGraphEditor([...this.#nodes], this.#leafNodeId);
    copy.#uncommitted = [...this.#uncommitted];
    copy.#replaceRequired = this.#replaceRequired;
    copy.#partial = this.#partial;
    copy.#freshNodeIds = new Set(this.#freshNodeIds);
    return copy;
  }

  /** True when the editor holds only the stored session's active path (plus uncommitted nodes). */
  get isPartial(): boolean {
    return this.#partial;
  }

  /**
   * True for a node this editor appended under an id drawn at random for it: a partial editor's
   * commit need not ask the store whether that id is taken off the path.
   */
  hasFreshId(node: SessionNodeRecord): boolean {
    return this.#freshNodeIds.has(node.nodeId);
  }

  /** The nodes the next delta will append, in append order. */
  get uncommittedNodes(): readonly SessionNodeRecord[] {
    return this.#uncommitted;
  }

  get leafNodeId(): string | undefined {
    return this.#leafNodeId;
  }

  get nodeCount(): number {
    return this.#nodes.length;
  }

  /** The graph as plain data (a new node array; the nodes themselves are shared and immutable). */
  toGraph(): SessionGraph {
    return this.#leafNodeId === undefined ? { nodes: [...this.#nodes] } : { nodes: [...this.#nodes], leafNodeId: this.#leafNodeId };
  }

  node(nodeId: string): SessionNodeRecord | undefined {
    const position = this.#positions.get(nodeId);
    return position === undefined ? undefined : this.#nodes[position];
  }

  /** The active path from the root to the leaf (stops at a missing parent). */
  activePath(): readonly SessionNodeRecord[] {
    if (this.#activePath) return this.#activePath;
    const path: SessionNodeRecord[] = [];
    const seen = new Set<string>();
    let current = this.#leafNodeId === undefined ? undefined : this.node(this.#leafNodeId);
    while (current && !seen.has(current.nodeId)) {
      seen.add(current.nodeId);
      path.push(current);
      current = current.parentNodeId === undefined ? undefined : this.node(current.parentNodeId);
    }
    path.reverse();
    this.#activePath = path;
    return path;
  }

  /**
   * The active path's messages, without transient ones, each message id once. A turn asks for them
   * several times while the path only grows at its end: they are kept with the path they came from
   * and extended by the nodes appended since (a new path, after a leaf move or a reload, starts over).
   */
  activeMessages(): Message[] {
    const path = this.activePath();
    let cache = this.#activeMessages;
    if (cache === undefined || cache.path !== path || cache.scanned > path.length) {
      cache = { path, scanned: 0, messages: [], seen: new Set() };
      this.#activeMessages = cache;
    }
    for (; cache.scanned < path.length; cache.scanned += 1) {
      const node = path[cache.scanned];
      if (node?.payload.kind !== "message") continue;
      const message = node.payload.message;
      if (isTransientMessage(message) || cache.seen.has(message.id)) continue;
      cache.seen.add(message.id);
      cache.messages.push(message);
    }
    return cache.messages.slice();
  }

  /** The tool calls recorded on the active path, in order. */
  activeToolCalls(): ToolCallRecord[] {
    const records: ToolCallRecord[] = [];
    for (const node of this.activePath()) {
      if (node.payload.kind === "tool_invocation") records.push(node.payload.record);
    }
    return records;
  }

  /** Ids of the nodes that are not on the active path. */
  orphanedNodeIds(): string[] {
    const onPath = new Set(this.activePath().map((node) => node.nodeId));
    return this.#nodes.filter((node) => !onPath.has(node.nodeId)).map((node) => node.nodeId);
  }

  /** Appends a message under the leaf (transient messages are never stored; returns undefined). */
  appendMessage(message: Message): SessionNodeRecord | undefined {
    if (isTransientMessage(message)) return undefined;
    // A message without an id still needs a unique, stable node id: a fresh message id ("m" + 32 hex).
    const preferred = message.id === "" ? freshMessageId() : message.id;
    const nodeId = this.#freeId(preferred, "message");
    const node = this.#append(nodeId, { kind: "message", message });
    if (nodeId === preferred && takeUnappendedMessageId(nodeId)) this.#freshNodeIds.add(nodeId);
    return node;
  }

  /** Appends a completed tool call under the leaf (node id `tool:{stableKey}`). */
  appendToolCall(record: ToolCallRecord): SessionNodeRecord {
    const stableKey = toolCallStableKey(record);
    let nodeId = `tool:${stableKey}`;
    if (this.#positions.has(nodeId)) nodeId = `tool:${stableKey}:${freshHexId()}`;
    return this.#append(nodeId, { kind: "tool_invocation", stableKey, record });
  }

  /** Appends any payload under the leaf with a fresh `{prefix}:{hex}` id. */
  appendRecord(payload: Extract<SessionNodePayload, { kind: "mode_event" | "plugin" }>): SessionNodeRecord {
    const prefix = payload.kind === "mode_event" ? "mode" : "plugin";
    const node = this.#append(`${prefix}:${freshHexId()}`, payload);
    this.#freshNodeIds.add(node.nodeId);
    return node;
  }

  /**
   * Makes the active path read as `messages`: keeps the longest prefix of the active path whose
   * messages match `messages` (by id, tool-call nodes riding along), then appends the rest as a new
   * branch. Replaced nodes stay in the graph as an orphaned branch; nothing is deleted.
   */
  replaceActiveReadState(messages: readonly Message[]): void {
    const target = messages.filter((message) => !isTransientMessage(message));
    let matched = 0;
    let branchPoint: string | undefined;
    for (const node of this.activePath()) {
      if (node.payload.kind === "message") {
        if (target[matched]?.id !== node.payload.message.id) break;
        matched += 1;
      }
      branchPoint = node.nodeId;
    }
    if (matched === target.length && branchPoint === this.#leafNodeId) return;
    this.#setLeaf(branchPoint);
    for (const message of target.slice(matched)) this.appendMessage(message);
  }

  /** Records that a turn ended stopped (node id `turn:{turnId}`), under the leaf. */
  appendTurnStopped(turnId: string, turnIndex: number, stop: TurnStop): SessionNodeRecord {
    const preferred = `turn:${turnId}`;
    const nodeId = this.#positions.has(preferred) ? `${preferred}:${freshHexId()}` : preferred;
    return this.#append(nodeId, { kind: "turn_stopped", turnId, turnIndex, stop });
  }

  /** Moves the leaf to `nodeId` (which must exist). */
  branchTo(nodeId: string): void {
    if (!this.#positions.has(nodeId)) throw new Error(`unknown node \`${nodeId}\``);
    this.#setLeaf(nodeId);
  }

  /**
   * Moves the leaf to the parent of the active path's node carrying message `messageId`; a message
   * at the root leaves no leaf, so the next node appended starts a new root. Returns false, moving
   * nothing, when no node of the active path carries that message.
   */
  branchBeforeMessage(messageId: string): boolean {
    const node = this.activePath().find((candidate) => candidate.payload.kind === "message" && candidate.payload.message.id === messageId);
    if (!node) return false;
    this.#setLeaf(node.parentNodeId);
    return true;
  }

  /**
   * Repairs a leaf that points at no node: the leaf becomes the last node carrying a message (or
   * none). Returns true when the leaf changed.
   */
  healOrphanedLeaf(): boolean {
    if (this.#leafNodeId === undefined || this.#positions.has(this.#leafNodeId)) return false;
    const lastMessage = this.#nodes.findLast((node) => node.payload.kind === "message");
    this.#setLeaf(lastMessage?.nodeId);
    return true;
  }

  /**
   * Requires the next commit to replace the whole stored graph (after a destructive rewrite). A
   * partial editor refuses: its graph lacks the off-path nodes, so a full replace would delete them
   * from the store.
   */
  requireFullReplace(): void {
    if (this.#partial) {
      throw new LashError(
        "invalid_argument",
        "a graph that holds only the active path cannot replace the stored graph: the off-path nodes would be deleted",
      );
    }
    this.#replaceRequired = true;
    this.#replaceGeneration += 1;
  }

  /** What `pendingDelta()` covers right now; pass it to `markCommitted` once that delta is stored. */
  get commitMark(): GraphCommitMark {
    return { uncommittedCount: this.#uncommitted.length, replaceGeneration: this.#replaceGeneration };
  }

  /** The graph delta of the next commit: everything appended since the last `markCommitted`. */
  pendingDelta(): GraphCommitDelta {
    if (this.#replaceRequired && !this.#partial) return { type: "replace_full", graph: this.toGraph() };
    const leaf = this.#leafNodeId === undefined ? {} : { leafNodeId: this.#leafNodeId };
    if (this.#uncommitted.length === 0) return { type: "unchanged", ...leaf };
    return { type: "append", nodes: [...this.#uncommitted], ...leaf };
  }

  /**
   * Marks the pending delta as stored. With a `mark` taken when the delta was built, only what that
   * delta covered is marked: nodes appended (or a full replace required) while the commit was in
   * flight stay pending for the next one.
   */
  markCommitted(mark?: GraphCommitMark): void {
    if (!mark) {
      this.#uncommitted = [];
      this.#freshNodeIds.clear();
      this.#replaceRequired = false;
      return;
    }
    const stored = this.#uncommitted.splice(0, mark.uncommittedCount);
    if (this.#freshNodeIds.size > 0) for (const node of stored) this.#freshNodeIds.delete(node.nodeId);
    if (mark.replaceGeneration === this.#replaceGeneration) this.#replaceRequired = false;
  }

  /**
   * Drops committed nodes that are off the active path (they stay in the store) and makes the
   * editor partial. Uncommitted nodes stay until a commit carries them. Does nothing while a full
   * replace is pending, which needs every node.
   */
  trimToActivePath(): void {
    if (this.#replaceRequired) return;
    this.#partial = true;
    const path = this.activePath();
    // Every node on the path (a conversation without branches, the usual case): nothing to drop.
    if (path.length === this.#nodes.length) return;
    const keep = new Set(path.map((node) => node.nodeId));
    for (const node of this.#uncommitted) keep.add(node.nodeId);
    if (keep.size === this.#nodes.length) return;
    this.#rebuild(this.#nodes.filter((node) => keep.has(node.nodeId)));
  }

  /**
   * Replaces the committed nodes with `path` (a stored active path loaded for another leaf) and
   * moves the leaf to its end; uncommitted nodes are kept, so the next delta still carries them.
   */
  adoptActivePath(path: SessionGraph): void {
    const leaf = path.leafNodeId;
    if (leaf !== undefined && !path.nodes.some((node) => node.nodeId === leaf)) {
      throw new LashError("invalid_persisted_data", `the loaded active path does not contain its leaf \`${leaf}\``);
    }
    const pending = new Set(this.#uncommitted.map((node) => node.nodeId));
    this.#partial = true;
    this.#rebuild([...path.nodes.filter((node) => !pending.has(node.nodeId)), ...this.#uncommitted]);
    this.#leafNodeId = leaf;
    this.#activePath = undefined;
  }

  /**
   * Gives an uncommitted node a fresh id (its children follow), for a node whose id the store
   * already holds on a branch this partial editor does not see. Returns the new id.
   */
  renameUncommittedNode(nodeId: string): string {
    const node = this.#uncommitted.find((candidate) => candidate.nodeId === nodeId);
    if (!node) throw new LashError("invalid_argument", `node \`${nodeId}\` is not an uncommitted node`);
    const payload = node.payload;
    const base =
      payload.kind === "message"
        ? `message:${payload.message.id}`
        : payload.kind === "tool_invocation"
          ? `tool:${payload.stableKey}`
          : nodeId;
    this.#freshNodeIds.delete(nodeId);
    let renamed = `${base}:${freshHexId()}`;
    while (this.#positions.has(renamed)) renamed = `${base}:${freshHexId()}`;
    this.#replaceNode(node, { ...node, nodeId: renamed });
    for (const child of this.#nodes.filter((candidate) => candidate.parentNodeId === nodeId)) {
      this.#replaceNode(child, { ...child, parentNodeId: renamed });
    }
    if (this.#leafNodeId === nodeId) this.#leafNodeId = renamed;
    this.#activePath = undefined;
    return renamed;
  }

  #replaceNode(previous: SessionNodeRecord, next: SessionNodeRecord): void {
    const position = this.#positions.get(previous.nodeId);
    if (position !== undefined) {
      this.#nodes[position] = next;
      this.#positions.delete(previous.nodeId);
      this.#positions.set(next.nodeId, position);
    }
    const pending = this.#uncommitted.indexOf(previous);
    if (pending >= 0) this.#uncommitted[pending] = next;
  }

  #rebuild(nodes: SessionNodeRecord[]): void {
    this.#nodes = nodes;
    this.#positions = new Map(nodes.map((node, position) => [node.nodeId, position]));
    this.#activePath = undefined;
  }

  #append(nodeId: string, payload: SessionNodePayload): SessionNodeRecord {
    const node: SessionNodeRecord =
      this.#leafNodeId === undefined
        ? { nodeId, timestamp: nowIso(), payload }
        : { nodeId, parentNodeId: this.#leafNodeId, timestamp: nowIso(), payload };
    this.#positions.set(nodeId, this.#nodes.length);
    this.#nodes.push(node);
    this.#uncommitted.push(node);
    const path = this.#activePath;
    this.#leafNodeId = nodeId;
    if (path) path.push(node);
    return node;
  }

  #setLeaf(nodeId: string | undefined): void {
    if (nodeId === this.#leafNodeId) return;
    this.#leafNodeId = nodeId;
    this.#activePath = undefined;
  }

  #freeId(preferred: string, prefix: string): string {
    if (!this.#positions.has(preferred)) return preferred;
    let candidate = `${prefix}:${preferred}`;
    for (let suffix = 2; this.#positions.has(candidate); suffix += 1) {
      candidate = `${prefix}:${preferred}:${suffix}`;
    }
    return candidate;
  }
}

/** A position in the editor's pending changes (see `SessionGraphEditor.commitMark`). */
export interface GraphCommitMark {
  readonly uncommittedCount: number;
  readonly replaceGeneration: number;
}

/** The active messages of a graph value (convenience for read models). */
export function activeMessagesOf(graph: SessionGraph): Message[] {
  return SessionGraphEditor.from(graph).activeMessages();
}

/** The active tool calls of a graph value. */
export function activeToolCallsOf(graph: SessionGraph): ToolCallRecord[] {
  return SessionGraphEditor.from(graph).activeToolCalls();
}
