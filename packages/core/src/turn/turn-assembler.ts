import type {
  AssembledTurn,
  Message,
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
import { activeMessagesOf } from "../session/session-graph.js";
import { classifyOutputState, renderSubmittedValue, sanitizeAssistantText } from "./output-classification.js";

const TURN_LIMIT_MARKER = "Turn limit reached (";
const TURN_LIMIT_WINDOW = 8;

/** The issue an error event records (an event without an envelope is a `runtime` issue). */
export function issueFromErrorEvent(event: Extract<SessionEvent, { type: "error" }>): TurnIssue {
  const envelope = event.envelope;
  if (!envelope) return { kind: "runtime", message: event.message };
  const issue: TurnIssue = { kind: envelope.kind, message: envelope.userMessage };
  if (envelope.code !== undefined) issue.code = envelope.code;
  if (envelope.terminalReason !== undefined) issue.terminalReason = envelope.terminalReason;
  if (envelope.raw !== undefined) issue.raw = envelope.raw;
  return issue;
}

function sameIssue(left: TurnIssue, right: TurnIssue): boolean {
  return left.kind === right.kind && left.code === right.code && left.message === right.message;
}

/** Text, prose and image contents of a message, concatenated (tool-call payloads excluded). */
function visibleText(message: Message): string {
  let text = "";
  for (const part of message.parts) if (part.kind === "text" || part.kind === "prose") text += part.content;
  return text;
}

/** The last assistant message after the latest user message (or in the whole history when none). */
function stateOutput(messages: readonly Message[]): string {
  let start = 0;
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    if (messages[index]?.role === "user") {
      start = index + 1;
      break;
    }
  }
  for (let index = messages.length - 1; index >= start; index -= 1) {
    const message = messages[index];
    if (message?.role === "assistant") return visibleText(message);
  }
  return "";
}

export interface AssemblerFinishInput {
  readonly state: SessionStateEnvelope;
  /** The turn was interrupted (host cancel or wall-time budget): the outcome is forced. */
  readonly interrupted: boolean;
  /** The stop an interruption forces; `cancelled` when absent. */
  readonly interruptionStop?: TurnStop;
  /** An issue to record in addition to those from error events (recorded once). */
  readonly forcedIssue?: TurnIssue;
  readonly treatMissingDoneAsFailure: boolean;
  /** The state's active messages when the caller has them (saves re-walking the graph). */
  readonly activeMessages?: readonly Message[];
}

/**
 * Builds the `AssembledTurn` from the turn's event stream and the final state (the reference's
 * `TurnAssembler`). The answer comes from the last prose block of the semantic stream: a prose
 * delta with a new correlation id starts a block that replaces the previous one.
 */
export class TurnAssembler {
  readonly #captureTextDeltas: boolean;
  #textDeltas = "";
  #toolCalls: ToolCallRecord[] = [];
  #sawToolFailure = false;
  #tokenUsage: TokenUsage = emptyTokenUsage();
  #lastLlmUsage: TokenUsage | undefined;
  #childUsage = new Map<string, { sessionId: string; source: string; model: string; cumulative: TokenUsage }>();
  #issues: TurnIssue[] = [];
  #sawDone = false;
  #outcome: TurnOutcome | undefined;
  #proseCorrelation: string | undefined;
  #proseText = "";
  #hasProse = false;
  #hadCodeExecution = false;

  constructor(options: { readonly captureTextDeltas: boolean }) {
    this.#captureTextDeltas = options.captureTextDeltas;
  }

  get tokenUsage(): TokenUsage {
    return this.#tokenUsage;
  }
  get lastLlmUsage(): TokenUsage | undefined {
    return this.#lastLlmUsage;
  }
  get toolCalls(): readonly ToolCallRecord[] {
    return this.#toolCalls;
  }
  get issues(): readonly TurnIssue[] {
    return this.#issues;
  }
  get outcome(): TurnOutcome | undefined {
    return this.#outcome;
  }
  get sawDone(): boolean {
    return this.#sawDone;
  }

  /** Records that a code cell ran during the turn. */
  markCodeExecution(): void {
    this.#hadCodeExecution = true;
  }

  push(event: SessionEvent): void {
    switch (event.type) {
      case "text_delta":
        if (this.#captureTextDeltas) this.#textDeltas += event.content;
        return;
      case "tool_call": {
        const record: ToolCallRecord = { tool: event.name, args: event.args, output: event.output, durationMs: event.durationMs };
        if (event.callId !== undefined) record.callId = event.callId;
        this.#toolCalls.push(record);
        if (event.output.outcome.status !== "success") this.#sawToolFailure = true;
        return;
      }
      case "token_usage":
        this.#tokenUsage = event.cumulative;
        this.#lastLlmUsage = event.usage;
        return;
      case "child_token_usage":
        this.#childUsage.set(JSON.stringify([event.sessionId, event.source, event.model]), {
          sessionId: event.sessionId,
          source: event.source,
          model: event.model,
          cumulative: event.cumulative,
        });
        return;
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

  pushTurnActivity(activity: TurnActivity): void {
    if (activity.type !== "assistant_prose_delta") return;
    if (this.#hasProse && activity.correlationId === this.#proseCorrelation) {
      this.#proseText += activity.text;
      return;
    }
    this.#hasProse = true;
    this.#proseCorrelation = activity.correlationId;
    this.#proseText = activity.text;
  }

  finish(input: AssemblerFinishInput): AssembledTurn {
    const issues = [...this.#issues];
    if (input.forcedIssue && !issues.some((issue) => sameIssue(issue, input.forcedIssue as TurnIssue))) issues.push(input.forcedIssue);
    const messages = input.activeMessages ?? activeMessagesOf(input.state.sessionGraph);

    let rawText: string;
    const finish = this.#outcome?.type === "finished" ? this.#outcome.finish : undefined;
    if (finish?.type === "submitted_value") rawText = renderSubmittedValue(finish.value);
    else if (this.#hasProse) rawText = this.#proseText;
    else {
      const streamed = this.#textDeltas.trim();
      const stored = stateOutput(messages);
      rawText = streamed === "" || (stored !== "" && stored.length >= streamed.length && stored.startsWith(streamed)) ? stored : streamed;
    }
    const safeText = sanitizeAssistantText(rawText);

    let outcome: TurnOutcome;
    if (input.interrupted) outcome = { type: "stopped", stop: input.interruptionStop ?? { type: "cancelled" } };
    else if (this.#outcome) {
      outcome =
        this.#outcome.type === "finished" && this.#outcome.finish.type === "assistant_message"
          ? { type: "finished", finish: { type: "assistant_message", text: safeText } }
          : this.#outcome;
    } else if (!this.#sawDone && input.treatMissingDoneAsFailure) outcome = { type: "stopped", stop: { type: "runtime_error" } };
    else if (issues.length > 0) outcome = { type: "stopped", stop: { type: this.#sawToolFailure ? "tool_failure" : "runtime_error" } };
    else if (hasTurnLimitMessage(messages)) outcome = { type: "stopped", stop: { type: "max_turns" } };
    else outcome = { type: "finished", finish: { type: "assistant_message", text: safeText } };

    return {
      state: input.state,
      outcome,
      assistantOutput: { safeText, rawText, state: classifyOutputState(rawText, safeText, issues) },
      execution: { mode: input.state.policy.executionMode, hadToolCalls: this.#toolCalls.length > 0, hadCodeExecution: this.#hadCodeExecution },
      tokenUsage: this.#tokenUsage,
      childrenUsage: this.#childrenUsage(),
      toolCalls: [...this.#toolCalls],
      errors: issues,
    };
  }

  #childrenUsage(): TokenLedgerEntry[] {
    const totals = new Map<string, TokenLedgerEntry>();
    for (const { source, model, cumulative } of this.#childUsage.values()) {
      const key = JSON.stringify([source, model]);
      const existing = totals.get(key);
      totals.set(key, { source, model, usage: existing ? addTokenUsage(existing.usage, cumulative) : cumulative });
    }
    return [...totals.values()].sort((left, right) =>
      left.source === right.source ? (left.model < right.model ? -1 : left.model > right.model ? 1 : 0) : left.source < right.source ? -1 : 1,
    );
  }
}

function hasTurnLimitMessage(messages: readonly Message[]): boolean {
  return messages
    .slice(-TURN_LIMIT_WINDOW)
    .some((message) => message.role === "system" && message.parts.some((part) => "content" in part && part.content.includes(TURN_LIMIT_MARKER)));
}
