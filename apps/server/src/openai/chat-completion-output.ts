import type { ApprovalRequest, TurnActivity } from "@lash/protocol";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionLash,
  ChatCompletionUsage,
  ChatFinishReason,
  TurnResult,
} from "@lash/remote-protocol";
import { awaitingApprovals, isLengthStop, isRefusal, turnTokenUsage } from "../ui-stream/turn-outcome.js";

/** What identifies one completion in every chunk and in the answer. */
export interface CompletionIdentity {
  /** `chatcmpl-` and the turn's id. */
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
  /** The profile that answered (`model`). */
  readonly model: string;
  readonly sessionId: string;
  readonly turnId: string;
}

/** One piece of the assistant's message, as it streams. */
export interface CompletionPiece {
  readonly content?: string;
  readonly reasoning?: string;
}

/**
 * Collects the assistant's message from the turn's activities: every prose delta in order (the
 * prose of each model call of the turn, separated by a blank line) and the reasoning. The same
 * pieces are streamed, or joined into a JSON answer, so both forms say the same.
 */
export class CompletionText {
  #content = "";
  #reasoning = "";
  #newModelCall = false;

  get content(): string {
    return this.#content;
  }

  get reasoning(): string {
    return this.#reasoning;
  }

  /** The piece an activity adds, if any. */
  add(activity: TurnActivity): CompletionPiece | undefined {
    switch (activity.type) {
      case "model_request_started":
        this.#newModelCall = true;
        return undefined;
      case "text_delta": {
        if (activity.text === "") return undefined;
        const separator = this.#newModelCall && this.#content !== "" && !this.#content.endsWith("\n\n") ? "\n\n" : "";
        this.#newModelCall = false;
        return this.append({ content: `${separator}${activity.text}` });
      }
      case "reasoning_delta":
        return activity.text === "" ? undefined : this.append({ reasoning: activity.text });
      default:
        return undefined;
    }
  }

  /** Adds a piece that did not come from an activity (the note on a turn that waits for approval). */
  append(piece: CompletionPiece): CompletionPiece {
    this.#content += piece.content ?? "";
    this.#reasoning += piece.reasoning ?? "";
    return piece;
  }
}

/**
 * The note a turn that waits for approval ends with: OpenAI's format has no such state, so the
 * client reads it as text (and `lash.outcome`, and the header on a JSON answer, say it as data).
 */
export function approvalNotice(sessionId: string, approvals: readonly ApprovalRequest[]): string {
  const listed = approvals
    .map((request) => `${request.tool}${request.summary === undefined ? "" : ` (${request.summary})`}: request ${request.id}`)
    .join("; ");
  return (
    `[lash] This turn is waiting for approval: ${listed}. ` +
    `Approve or reject with POST /v1/sessions/${sessionId}/approvals/{id} and {"decision":"approve"} or {"decision":"reject"}; ` +
    "the turn then goes on in the same session."
  );
}

/** OpenAI's finish reason of a turn that ended as an answer (failures are errors, not finish reasons). */
export function chatFinishReason(result: TurnResult): ChatFinishReason {
  if (isRefusal(result)) return "content_filter";
  if (isLengthStop(result)) return "length";
  return "stop";
}

/**
 * The turn's usage in OpenAI's terms (subagents included): prompt tokens count the cached ones
 * (added back when the provider reports them apart), completion tokens count reasoning.
 */
export function chatUsage(result: TurnResult, inputExcludesCachedTokens: boolean): ChatCompletionUsage {
  const usage = turnTokenUsage(result);
  const promptTokens = usage.inputTokens + (inputExcludesCachedTokens ? usage.cachedInputTokens : 0);
  const completionTokens = usage.outputTokens + usage.reasoningTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

function lashOf(identity: CompletionIdentity, result: TurnResult): ChatCompletionLash {
  return { session_id: identity.sessionId, turn_id: identity.turnId, outcome: result.outcome };
}

/** The note to add when the turn waits for approval, already separated from the text before it. */
export function closingNotice(identity: CompletionIdentity, result: TurnResult, text: CompletionText): string | undefined {
  const approvals = awaitingApprovals(result);
  if (approvals.length === 0) return undefined;
  return `${text.content === "" ? "" : "\n\n"}${approvalNotice(identity.sessionId, approvals)}`;
}

/** The JSON answer of a turn that ended as an answer. */
export function completionBody(
  identity: CompletionIdentity,
  result: TurnResult,
  text: CompletionText,
  inputExcludesCachedTokens: boolean,
): ChatCompletion {
  return {
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: identity.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text.content,
          refusal: null,
          ...(text.reasoning === "" ? {} : { reasoning_content: text.reasoning }),
        },
        logprobs: null,
        finish_reason: chatFinishReason(result),
      },
    ],
    usage: chatUsage(result, inputExcludesCachedTokens),
    lash: lashOf(identity, result),
  };
}

/** A chunk of a streamed answer; with `include_usage`, every chunk but the last says `usage: null`, as OpenAI's do. */
export function completionChunk(
  identity: CompletionIdentity,
  includeUsage: boolean,
  delta: ChatCompletionChunk["choices"][number]["delta"],
  finish?: { readonly result: TurnResult },
): ChatCompletionChunk {
  return {
    id: identity.id,
    object: "chat.completion.chunk",
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish === undefined ? null : chatFinishReason(finish.result) }],
    ...(includeUsage ? { usage: null } : {}),
    ...(finish === undefined ? {} : { lash: lashOf(identity, finish.result) }),
  };
}

/** The last chunk of a stream that asked for usage: no choices, the usage. */
export function usageChunk(identity: CompletionIdentity, result: TurnResult, inputExcludesCachedTokens: boolean): ChatCompletionChunk {
  return {
    id: identity.id,
    object: "chat.completion.chunk",
    created: identity.created,
    model: identity.model,
    choices: [],
    usage: chatUsage(result, inputExcludesCachedTokens),
  };
}
