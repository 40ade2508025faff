import { APPROVAL_REJECTED_CODE, type JsonValue, type TokenUsage, type TurnActivity, totalTokens } from "@lash/protocol";
import type { TurnResult } from "@lash/remote-protocol";
import { awaitingApprovals, isLengthStop, isRefusal, stopType, turnFailure, turnTokenUsage } from "./turn-outcome.js";

/** Why a UI message ended, in the AI SDK's words. */
export type UiFinishReason = "stop" | "length" | "content-filter" | "tool-calls" | "error" | "other";

/**
 * What lash puts in the assistant message's metadata: the session and turn (on `start`, so a
 * client can cancel or reattach at once), and on `finish` how the turn ended and its tokens.
 */
export interface LashMessageMetadata {
  readonly lash: {
    readonly sessionId: string;
    readonly turnId: string;
    readonly outcome?: string;
    /** The stop's type; `null` when the turn finished (a later segment of the same message overrides an earlier stop). */
    readonly stop?: string | null;
    readonly usage?: TokenUsage & { readonly totalTokens: number };
  };
}

/** The chunks of the AI SDK 7 UI message stream this server sends (a subset of the SDK's `UIMessageChunk`). */
export type UiMessageChunk =
  | { readonly type: "start"; readonly messageId: string; readonly messageMetadata: LashMessageMetadata }
  | { readonly type: "start-step" }
  | { readonly type: "finish-step" }
  | { readonly type: "text-start" | "text-end" | "reasoning-start" | "reasoning-end"; readonly id: string }
  | { readonly type: "text-delta" | "reasoning-delta"; readonly id: string; readonly delta: string }
  | { readonly type: "tool-input-start"; readonly toolCallId: string; readonly toolName: string }
  | { readonly type: "tool-input-available"; readonly toolCallId: string; readonly toolName: string; readonly input: JsonValue }
  | {
      readonly type: "tool-approval-request";
      readonly approvalId: string;
      readonly toolCallId: string;
      readonly reason?: string;
      readonly approvalDescriptor: JsonValue;
    }
  | { readonly type: "tool-output-available"; readonly toolCallId: string; readonly output: JsonValue }
  | { readonly type: "tool-output-error"; readonly toolCallId: string; readonly errorText: string }
  | { readonly type: "tool-output-denied"; readonly toolCallId: string }
  | { readonly type: "error"; readonly errorText: string }
  | { readonly type: "finish"; readonly finishReason: UiFinishReason; readonly messageMetadata: LashMessageMetadata };

/** An open text or reasoning part: the activities of one block share a correlation id. */
interface OpenPart {
  readonly kind: "text" | "reasoning";
  readonly id: string;
  readonly correlationId: string;
}

/** The AI SDK's finish reason of a turn's result. */
export function uiFinishReason(result: TurnResult): UiFinishReason {
  if (turnFailure(result) !== undefined) return "error";
  if (isRefusal(result)) return "content-filter";
  if (isLengthStop(result)) return "length";
  // The SDK's own agents end a step that waits for approvals with `tool-calls`.
  if (awaitingApprovals(result).length > 0) return "tool-calls";
  return result.outcome.type === "stopped" ? "other" : "stop";
}

/**
 * Turns one turn's activities into UI message chunks, in order: a model call is a step
 * (`start-step` ... `finish-step`), prose and reasoning blocks are text and reasoning parts, a tool
 * call is its input (`tool-input-start`, `tool-input-available`) then its output (available, error,
 * or denied when the user rejected it), and an approval request is a `tool-approval-request` whose
 * `approvalId` is the lash request id. Everything else (usage, retries, plugin events) is left out:
 * the finish carries the usage.
 */
export class UiMessageChunkMapper {
  readonly #sessionId: string;
  readonly #turnId: string;
  #open: OpenPart | undefined;
  #stepOpen = false;
  /** Calls already shown as denied: a rejected call may also be reported completed, with the rejection as its output. */
  readonly #denied = new Set<string>();

  constructor(sessionId: string, turnId: string) {
    this.#sessionId = sessionId;
    this.#turnId = turnId;
  }

  /**
   * The first chunk. The message id is the turn's id, so the segment that continues a turn after
   * its approvals continues the same assistant message.
   */
  start(): UiMessageChunk[] {
    return [{ type: "start", messageId: this.#turnId, messageMetadata: { lash: { sessionId: this.#sessionId, turnId: this.#turnId } } }];
  }

  activity(activity: TurnActivity): UiMessageChunk[] {
    const chunks: UiMessageChunk[] = [];
    switch (activity.type) {
      case "text_delta":
      case "reasoning_delta": {
        const kind = activity.type === "text_delta" ? "text" : "reasoning";
        if (this.#open?.kind !== kind || this.#open.correlationId !== activity.correlationId) {
          this.#close(chunks);
          // The first activity's id names the part: unique, even across the segments of a turn.
          this.#open = { kind, id: activity.id, correlationId: activity.correlationId };
          chunks.push({ type: kind === "text" ? "text-start" : "reasoning-start", id: activity.id });
        }
        if (activity.text !== "")
          chunks.push({ type: kind === "text" ? "text-delta" : "reasoning-delta", id: this.#open.id, delta: activity.text });
        return chunks;
      }
      case "model_request_started":
        this.#endStep(chunks);
        this.#stepOpen = true;
        chunks.push({ type: "start-step" });
        return chunks;
      case "tool_call_started": {
        this.#close(chunks);
        const toolCallId = activity.callId ?? activity.correlationId;
        chunks.push(
          { type: "tool-input-start", toolCallId, toolName: activity.name },
          { type: "tool-input-available", toolCallId, toolName: activity.name, input: activity.args },
        );
        return chunks;
      }
      case "approval_requested": {
        const request = activity.request;
        // A request without a call id (a call inside a container tool) names no tool part; such
        // calls never wait for approval, so there is nothing to show.
        if (request.callId === undefined) return chunks;
        this.#close(chunks);
        chunks.push({
          type: "tool-approval-request",
          approvalId: request.id,
          toolCallId: request.callId,
          ...(request.summary === undefined ? {} : { reason: request.summary }),
          approvalDescriptor: {
            tool: request.tool,
            requestedAt: request.requestedAt,
            ...(request.summary === undefined ? {} : { summary: request.summary }),
            ...(request.expiresAt === undefined ? {} : { expiresAt: request.expiresAt }),
          },
        });
        return chunks;
      }
      case "approval_resolved":
        // A rejected call never runs, and a segment whose every decision is a rejection reports no
        // completion for it: its denial is shown now.
        if (activity.resolution.decision === "rejected" && activity.callId !== undefined) this.#deny(activity.callId, chunks);
        return chunks;
      case "tool_call_completed": {
        this.#close(chunks);
        const toolCallId = activity.callId ?? activity.correlationId;
        const outcome = activity.output.outcome;
        if (outcome.status === "success") chunks.push({ type: "tool-output-available", toolCallId, output: outcome.payload });
        else if (outcome.status === "failure" && outcome.payload.code === APPROVAL_REJECTED_CODE) this.#deny(toolCallId, chunks);
        else chunks.push({ type: "tool-output-error", toolCallId, errorText: outcome.payload.message });
        return chunks;
      }
      default:
        return chunks;
    }
  }

  /** The last chunks of a segment that ended with a result: an `error` first when the turn failed. */
  finish(result: TurnResult): UiMessageChunk[] {
    const chunks: UiMessageChunk[] = [];
    this.#endStep(chunks);
    const failure = turnFailure(result);
    if (failure !== undefined) chunks.push({ type: "error", errorText: failure.message });
    const usage = turnTokenUsage(result);
    const stop = stopType(result);
    chunks.push({
      type: "finish",
      finishReason: uiFinishReason(result),
      messageMetadata: {
        lash: {
          sessionId: this.#sessionId,
          turnId: this.#turnId,
          outcome: result.outcome.type,
          stop: stop ?? null,
          usage: { ...usage, totalTokens: totalTokens(usage) },
        },
      },
    });
    return chunks;
  }

  /** The last chunks of a segment that failed (the store, a commit): the open parts end, then the error. */
  fail(message: string): UiMessageChunk[] {
    const chunks: UiMessageChunk[] = [];
    this.#endStep(chunks);
    chunks.push({ type: "error", errorText: message });
    return chunks;
  }

  #deny(toolCallId: string, chunks: UiMessageChunk[]): void {
    if (this.#denied.has(toolCallId)) return;
    this.#denied.add(toolCallId);
    this.#close(chunks);
    chunks.push({ type: "tool-output-denied", toolCallId });
  }

  #close(chunks: UiMessageChunk[]): void {
    const open = this.#open;
    if (open === undefined) return;
    chunks.push({ type: open.kind === "text" ? "text-end" : "reasoning-end", id: open.id });
    this.#open = undefined;
  }

  #endStep(chunks: UiMessageChunk[]): void {
    this.#close(chunks);
    if (this.#stepOpen) chunks.push({ type: "finish-step" });
    this.#stepOpen = false;
  }
}
