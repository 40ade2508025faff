import type {
  AssembledTurn,
  Message,
  MessagePartKind,
  SessionEvent,
  SessionStateEnvelope,
  TokenLedgerEntry,
  TokenUsage,
  ToolCallRecord,
  TurnActivity,
  TurnIssue,
  TurnOutcome,
  TurnStop,
} from "@lash/protocol";
import { addTokenUsage, emptyTokenUsage } from "@lash/protocol";
import { renderMessageText } from "../session/message-text.js";
import { activeMessagesOf } from "../session/session-graph.js";
import { classifyOutputState, renderSubmittedValue, sanitizeAssistantText } from "./output-classification.js";

// The system note the turn-limit logic leaves in the history; only recent messages are searched so
// that a limit hit in an earlier turn does not mark this one.
const TURN_LIMIT_MARKER = "Turn limit reached (";
const TURN_LIMIT_WINDOW = 8;

// The parts whose text counts as an assistant answer. Images contribute no text, and tool-call
// payloads are excluded so that raw JSON arguments never become the answer.
const ANSWER_PART_KINDS: ReadonlySet<MessagePartKind> = new Set(["text", "prose", "image"]);

/**
 * The issue an `error` event records: kind, code, terminal reason and raw body from its envelope,
 * and the event's message. An event without an envelope is a `runtime` issue.
 */
export function issueFromErrorEvent(event: Extract<SessionEvent, { type: "error" }>): TurnIssue {
  const { envelope } = event;
  if (envelope === undefined) return { kind: "runtime", message: event.message };
  const issue: TurnIssue = { kind: envelope.kind, message: event.message };
  if (envelope.code !== undefined) issue.code = envelope.code;
  if (envelope.terminalReason !== undefined) issue.terminalReason = envelope.terminalReason;
  if (envelope.raw !== undefined) issue.raw = envelope.raw;
  return issue;
}

function sameIssue(left: TurnIssue, right: TurnIssue): boolean {
  return left.kind === right.kind && left.code === right.code && left.message === right.message;
}

/**
 * The answer stored in the state: the last assistant message after the latest user message (in the
 * whole history when there is none). Tool results are user messages, so an assistant message from
 * before the latest tool round or prompt never counts.
 */
function assistantTextFromState(messages: readonly Message[]): string {
  const latestUser = messages.findLastIndex((message) => message.role === "user");
  for (let index = messages.length - 1; index > latestUser; index -= 1) {
    const message = messages[index];
    if (message?.role === "assistant") return renderMessageText(message, ANSWER_PART_KINDS);
  }
  return "";
}

function hasTurnLimitMessage(messages: readonly Message[]): boolean {
  return messages
    .slice(-TURN_LIMIT_WINDOW)
    .some(
      (message) => message.role === "system" && message.parts.some((part) => "content" in part && part.content.includes(TURN_LIMIT_MARKER)),
    );
}

function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

export interface AssemblerFinishInput {
  /** The session read model after the turn. */
  readonly state: SessionStateEnvelope;
  /** The turn was interrupted (host cancel or wall-time budget): the outcome is forced. */
  readonly interrupted: boolean;
  /** The stop an interruption forces; `cancelled` when absent. */
  readonly interruptionStop?: TurnStop;
  /** An issue to record besides those from error events (not added when an equal one is there). */
  readonly forcedIssue?: TurnIssue;
  /** No `done` event means the turn failed (`runtime_error`). */
  readonly treatMissingDoneAsFailure: boolean;
  /** The state's active messages when the caller has them (saves walking the graph again). */
  readonly activeMessages?: readonly Message[];
}

/**
 * Builds the `AssembledTurn` from the turn's event stream and the final state. The answer comes from
 * the semantic prose stream: prose deltas that share a correlation id form one block, and a delta
 * with a new correlation id starts a block that replaces the previous one, so only the last model
 * call's prose survives.
 */
export class TurnAssembler {
  readonly #captureTextDeltas: boolean;
  #textDeltas = "";
  #proseBlock: { readonly correlationId: string; text: string } | undefined;
  readonly #toolCalls: ToolCallRecord[] = [];
  #sawToolFailure = false;
  #tokenUsage: TokenUsage = emptyTokenUsage();
  #lastLlmUsage: TokenUsage | undefined;
  // Child usage per (source, model), summed from the events' deltas. Keeping each child session's
  // last cumulative instead would undercount a child that runs several turns within one parent turn
  // (each child turn restarts its cumulative); the deltas add up to the same total for a single
  // child turn and stay right for several, in agreement with the token ledger.
  readonly #childUsage = new Map<string, TokenLedgerEntry>();
  readonly #issues: TurnIssue[] = [];
  #sawDone = false;
  #outcome: TurnOutcome | undefined;
  #hadCodeExecution = false;

  /** @param options.captureTextDeltas - keep `text_delta` content for the fallback answer. */
  constructor(options: { readonly captureTextDeltas: boolean }) {
    this.#captureTextDeltas = options.captureTextDeltas;
  }

  /** The cumulative usage of the last `usage` event (zero before any). */
  get tokenUsage(): TokenUsage {
    return this.#tokenUsage;
  }

  /** The usage of the last model call, if any reported. */
  get lastLlmUsage(): TokenUsage | undefined {
    return this.#lastLlmUsage;
  }

  get toolCalls(): readonly ToolCallRecord[] {
    return this.#toolCalls;
  }

  /** Issues recorded from error events so far (a forced issue is only added by `finish`). */
  get issues(): readonly TurnIssue[] {
    return this.#issues;
  }

  /** The outcome of the last `turn_outcome` event. */
  get outcome(): TurnOutcome | undefined {
    return this.#outcome;
  }

  get sawDone(): boolean {
    return this.#sawDone;
  }

  /**
   * A resumed turn starts from the usage its earlier runs reported: the assembled turn's
   * `tokenUsage` is the whole turn's, whether or not this run calls the model.
   */
  continueFromUsage(usage: TokenUsage): void {
    this.#tokenUsage = { ...usage };
  }

  /** Records that a code cell ran during the turn (`execution.hadCodeExecution`). */
  markCodeExecution(): void {
    this.#hadCodeExecution = true;
  }

  push(event: SessionEvent): void {
    switch (event.type) {
      case "text_delta":
        if (this.#captureTextDeltas) this.#textDeltas += event.text;
        return;
      case "tool_call_completed": {
        const record: ToolCallRecord = { tool: event.name, args: event.args, output: event.output, durationMs: event.durationMs };
        if (event.callId !== undefined) record.callId = event.callId;
        if (event.approval !== undefined) record.approval = event.approval;
        this.#toolCalls.push(record);
        if (event.output.outcome.status !== "success") this.#sawToolFailure = true;
        return;
      }
      case "usage":
        this.#tokenUsage = { ...event.cumulative };
        this.#lastLlmUsage = { ...event.usage };
        return;
      case "child_usage": {
        const key = JSON.stringify([event.source, event.model]);
        const existing = this.#childUsage.get(key);
        this.#childUsage.set(key, {
          source: event.source,
          model: event.model,
          usage: existing === undefined ? { ...event.usage } : addTokenUsage(existing.usage, event.usage),
        });
        return;
      }
      case "error":
        this.#issues.push(issueFromErrorEvent(event));
        return;
      case "done":
        this.#sawDone = true;
        return;
      case "turn_outcome":
        this.#outcome = event.outcome;
        return;
      default:
        return;
    }
  }

  /** Only assistant prose matters here; other activities are ignored. */
  pushTurnActivity(activity: TurnActivity): void {
    if (activity.type !== "text_delta") return;
    if (this.#proseBlock?.correlationId === activity.correlationId) {
      this.#proseBlock.text += activity.text;
      return;
    }
    this.#proseBlock = { correlationId: activity.correlationId, text: activity.text };
  }

  /**
   * The assembled turn. The assembler's own state is not changed, so `finish` may be called again
   * (for example over a later state).
   */
  finish(input: AssemblerFinishInput): AssembledTurn {
    const issues = [...this.#issues];
    const { forcedIssue } = input;
    // A forced issue usually repeats an error event that was already pushed: record it once.
    if (forcedIssue !== undefined && !issues.some((issue) => sameIssue(issue, forcedIssue))) issues.push(forcedIssue);

    const messages = input.activeMessages ?? activeMessagesOf(input.state.sessionGraph);
    const rawText = this.#rawText(messages);
    const safeText = sanitizeAssistantText(rawText);

    return {
      state: input.state,
      outcome: this.#finalOutcome(input, issues, messages, safeText),
      assistantOutput: { safeText, rawText, state: classifyOutputState(rawText, safeText, issues) },
      execution: {
        mode: input.state.policy.executionMode,
        hadToolCalls: this.#toolCalls.length > 0,
        hadCodeExecution: this.#hadCodeExecution,
      },
      tokenUsage: { ...this.#tokenUsage },
      childrenUsage: this.#childrenUsage(),
      toolCalls: [...this.#toolCalls],
      errors: issues,
    };
  }

  /**
   * The unsanitised answer: a submitted value wins; then the last prose block; then the streamed
   * text or the state's answer. The state's answer is preferred when the stream shows only a prefix
   * of it (the stream was cut short, the stored message is complete).
   */
  #rawText(messages: readonly Message[]): string {
    const outcome = this.#outcome;
    if (outcome?.type === "finished" && outcome.finish.type === "submitted_value") return renderSubmittedValue(outcome.finish.value);
    if (this.#proseBlock !== undefined) return this.#proseBlock.text;
    const streamed = this.#textDeltas.trim();
    const stored = assistantTextFromState(messages);
    if (streamed === "") return stored;
    return stored !== "" && stored.length >= streamed.length && stored.startsWith(streamed) ? stored : streamed;
  }

  #finalOutcome(input: AssemblerFinishInput, issues: readonly TurnIssue[], messages: readonly Message[], safeText: string): TurnOutcome {
    // An interruption always wins, whatever the machine reported before it.
    if (input.interrupted) return { type: "stopped", stop: input.interruptionStop ?? { type: "cancelled" } };
    const outcome = this.#outcome;
    if (outcome !== undefined) {
      // The answer a host sees is the assembled one, not the text the mode reported.
      if (outcome.type === "finished" && outcome.finish.type === "assistant_message") {
        return { type: "finished", finish: { type: "assistant_message", text: safeText } };
      }
      return outcome;
    }
    if (!this.#sawDone && input.treatMissingDoneAsFailure) return { type: "stopped", stop: { type: "runtime_error" } };
    if (issues.length > 0) return { type: "stopped", stop: { type: this.#sawToolFailure ? "tool_failure" : "runtime_error" } };
    if (hasTurnLimitMessage(messages)) return { type: "stopped", stop: { type: "max_turns" } };
    return { type: "finished", finish: { type: "assistant_message", text: safeText } };
  }

  /** Child usage per (source, model) over every child session, sorted by source, then model. */
  #childrenUsage(): TokenLedgerEntry[] {
    return [...this.#childUsage.values()]
      .map((entry) => ({ source: entry.source, model: entry.model, usage: { ...entry.usage } }))
      .sort((left, right) => compareText(left.source, right.source) || compareText(left.model, right.model));
  }
}
