import { randomUUID } from "node:crypto";
import type { InputItem, Message } from "@lash/protocol";
import {
  type ChatCompletionRequest,
  type ChatMessage,
  resourceIdSchema,
  SESSION_ID_METADATA_KEY,
  type SessionMetadata,
} from "@lash/remote-protocol";
import { HttpError } from "../http/http-error.js";

/** What a Chat Completions request asks lash to do. */
export interface ChatCompletionPlan {
  /** The agent profile (`model`). */
  readonly profileName: string;
  /** The session to continue; `undefined` starts a new one. */
  readonly sessionId: string | undefined;
  /** The turn's input: the text of the last message, the user's. */
  readonly input: InputItem[];
  /** The earlier messages, as lash messages: the history a new session starts with (a continued session has its own). */
  readonly history: Message[];
  /** Labels of a new session: the request's `metadata` without `session_id`. */
  readonly metadata: SessionMetadata;
  readonly stream: boolean;
  /** Send a last chunk with the usage (`stream_options.include_usage`). */
  readonly includeUsage: boolean;
}

/** A 400 naming the request field at fault (OpenAI's `param`). */
function invalid(param: string, message: string): HttpError {
  return new HttpError("invalid_request", message, { details: { param } });
}

/**
 * The text of a message's content: a string, or its `text` parts (and an assistant's `refusal`
 * parts) in order. Images, audio and files are refused: a turn's input is text for now.
 */
function contentTexts(message: ChatMessage, index: number): string[] {
  const content = message.content;
  if (content === undefined || content === null) return [];
  if (typeof content === "string") return [content];
  const texts: string[] = [];
  for (const part of content) {
    if (part.type === "text" && part.text !== undefined) texts.push(part.text);
    else if (part.type === "refusal" && part.refusal !== undefined && message.role === "assistant") texts.push(part.refusal);
    else throw invalid(`messages.${index}.content`, `only text content is supported; a \`${part.type}\` part is not`);
  }
  return texts;
}

/** A fresh message id, in the runtime's form (`m` and 32 hex digits). */
function messageId(): string {
  return `m${randomUUID().replaceAll("-", "")}`;
}

/**
 * An earlier message as a lash message. The client's system and developer messages stay system
 * messages (they follow the profile's own system prompt); empty messages are dropped.
 */
function historyMessage(message: ChatMessage, index: number): Message | undefined {
  const text = contentTexts(message, index).join("\n");
  if (text === "") return undefined;
  const id = messageId();
  const partId = `${id}.p0`;
  switch (message.role) {
    case "system":
    case "developer":
      return { id, role: "system", parts: [{ kind: "text", id: partId, content: text }] };
    case "user":
      return { id, role: "user", parts: [{ kind: "text", id: partId, content: text }] };
    default:
      return { id, role: "assistant", parts: [{ kind: "prose", id: partId, content: text }] };
  }
}

/**
 * The messages are checked whether or not they are used: tool calls and tool results are refused
 * everywhere (the profile's tools run on the server; a client's own tool round trips have no place
 * in a lash session), and the last message must be the user's.
 */
function checkMessages(messages: readonly ChatMessage[]): void {
  messages.forEach((message, index) => {
    if (message.role === "tool" || message.role === "function") {
      throw invalid(
        `messages.${index}.role`,
        "tool results are not accepted: this endpoint runs the agent profile's own tools on the server",
      );
    }
    if (message.tool_calls !== undefined && message.tool_calls !== null && message.tool_calls.length > 0) {
      throw invalid(
        `messages.${index}.tool_calls`,
        "tool calls are not accepted: this endpoint runs the agent profile's own tools on the server",
      );
    }
  });
  if (messages.at(-1)?.role !== "user") throw invalid("messages", "the last message must be the user's: it is the turn's input");
}

/** The session the request names: the header, else `metadata.session_id`; both must agree. */
function requestedSessionId(body: ChatCompletionRequest, header: string | undefined): string | undefined {
  const fromMetadata = body.metadata?.[SESSION_ID_METADATA_KEY];
  const fromHeader = header === undefined || header.trim() === "" ? undefined : header.trim();
  if (fromHeader !== undefined && fromMetadata !== undefined && fromHeader !== fromMetadata) {
    throw invalid("metadata.session_id", "the session id header and metadata.session_id name different sessions");
  }
  const sessionId = fromHeader ?? fromMetadata;
  if (sessionId === undefined) return undefined;
  if (!resourceIdSchema.safeParse(sessionId).success) {
    throw invalid("metadata.session_id", "the session id must contain only letters, digits and . _ : - (at most 200 characters)");
  }
  return sessionId;
}

/** Fields OpenAI's clients may send that this endpoint cannot honour: refused, never silently ignored. */
function refuseUnsupported(body: ChatCompletionRequest): void {
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw invalid("n", "only one choice per request (`n: 1`)");
  if ((body.tools?.length ?? 0) > 0 || (body.functions?.length ?? 0) > 0) {
    throw invalid(
      body.tools === undefined || body.tools === null ? "functions" : "tools",
      "client-side tools are not supported: the agent profile's own tools run on the server; send the request without `tools`",
    );
  }
  const format = body.response_format?.type;
  if (format !== undefined && format !== "text") {
    throw invalid("response_format", `response_format \`${format.slice(0, 64)}\` is not supported; the agent answers in text`);
  }
}

/**
 * Reads a validated request into what to do: which profile, which session (or a new one with the
 * earlier messages as its history), the turn's input, how to answer. Everything that cannot be
 * honoured is refused here, before any session is touched.
 */
export function planChatCompletion(body: ChatCompletionRequest, sessionHeader: string | undefined): ChatCompletionPlan {
  refuseUnsupported(body);
  checkMessages(body.messages);
  const sessionId = requestedSessionId(body, sessionHeader);
  const lastIndex = body.messages.length - 1;
  const last = body.messages[lastIndex];
  const input = (last === undefined ? [] : contentTexts(last, lastIndex)).filter((text) => text !== "");
  if (input.length === 0) throw invalid(`messages.${lastIndex}.content`, "the user's message has no text");
  // A continued session has its own history: the earlier messages are read only to check them.
  const history = body.messages
    .slice(0, lastIndex)
    .map(historyMessage)
    .filter((message): message is Message => message !== undefined);
  const { [SESSION_ID_METADATA_KEY]: _sessionId, ...metadata } = body.metadata ?? {};
  return {
    profileName: body.model,
    sessionId,
    input: input.map((text) => ({ type: "text", text })),
    history: sessionId === undefined ? history : [],
    metadata,
    stream: body.stream === true,
    includeUsage: body.stream === true && body.stream_options?.include_usage === true,
  };
}
