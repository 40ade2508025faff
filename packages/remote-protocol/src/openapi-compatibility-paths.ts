import { LASH_AWAITING_APPROVAL_HEADER, LASH_SESSION_ID_HEADER } from "./openai-chat-schemas.js";
import { type JsonSchemaObject, schemaRef } from "./openapi-components.js";
import { UI_MESSAGE_STREAM_HEADER } from "./ui-chat-schemas.js";

/*
 * The two routes that speak other projects' wire formats: OpenAI's Chat Completions and the AI SDK's
 * UI message stream. Their bodies are described here by hand, because their errors and streams do
 * not follow the lash routes' conventions (the OpenAI route answers errors in OpenAI's shape).
 */

const sessionIdHeader = {
  name: LASH_SESSION_ID_HEADER,
  in: "header",
  required: false,
  description: "The session to continue (or `metadata.session_id` in the body); without either, the call starts a new session.",
  schema: { type: "string" },
};

const openAiErrors = (statuses: readonly number[]): Record<string, JsonSchemaObject> =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      { description: "An error, in OpenAI's shape.", content: { "application/json": { schema: schemaRef("OpenAiErrorBody") } } },
    ]),
  );

const lashErrors = (statuses: readonly number[]): Record<string, JsonSchemaObject> =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      { description: "An error.", content: { "application/json": { schema: schemaRef("ErrorBody") } } },
    ]),
  );

const chatCompletions: JsonSchemaObject = {
  post: {
    operationId: "createChatCompletion",
    summary: "OpenAI-compatible chat completion: `model` names an agent profile, the conversation is a lash session.",
    description: [
      "The last message of `messages` is the turn's input; the earlier ones seed a new session and are ignored when a session is continued (it has its own history).",
      "lash runs the profile's own tools on the server: a request with `tools` is refused.",
      `The answer carries the session's id in \`${LASH_SESSION_ID_HEADER}\`; a turn that waits for approval ends \`stop\` with a note naming the requests, and \`${LASH_AWAITING_APPROVAL_HEADER}\` lists their ids (JSON answers).`,
      "With `stream: true`: `chat.completion.chunk` events, then `data: [DONE]`; with `stream_options.include_usage` a last chunk carries the usage.",
    ].join(" "),
    parameters: [sessionIdHeader],
    requestBody: { required: true, content: { "application/json": { schema: schemaRef("ChatCompletionRequest") } } },
    responses: {
      "200": {
        description: "The completion, or its chunks as server-sent events.",
        headers: { [LASH_SESSION_ID_HEADER]: { schema: { type: "string" } } },
        content: {
          "application/json": { schema: schemaRef("ChatCompletion") },
          "text/event-stream": { schema: { type: "string" }, "x-lash-events": { message: schemaRef("ChatCompletionChunk") } },
        },
      },
      ...openAiErrors([400, 404, 409, 413, 415, 500, 502, 503]),
    },
  },
};

const uiChat: JsonSchemaObject = {
  post: {
    operationId: "uiChat",
    summary: "Run a turn for the AI SDK's `useChat`: the answer is an AI SDK 7 UI message stream.",
    description: [
      "The body is what `useChat` sends. The last message is the user's new text, or the assistant message whose tool parts carry approval responses (`addToolApprovalResponse`): those continue the waiting turn.",
      `The response is server-sent events of UI message chunks (\`${UI_MESSAGE_STREAM_HEADER}: v1\`), ending with \`data: [DONE]\`; a turn that waits for approval sends \`tool-approval-request\` parts whose \`approvalId\` is the lash approval request id.`,
    ].join(" "),
    parameters: [{ name: "sessionId", in: "path", required: true, schema: { type: "string" } }],
    requestBody: { required: true, content: { "application/json": { schema: schemaRef("UiChatRequest") } } },
    responses: {
      "200": { description: "The UI message stream.", content: { "text/event-stream": { schema: { type: "string" } } } },
      ...lashErrors([400, 404, 409, 413, 415, 500, 503]),
    },
  },
};

const uiChatReconnect: JsonSchemaObject = {
  get: {
    operationId: "uiChatReconnect",
    summary: "Reconnect `useChat` to the session's running turn (`DefaultChatTransport.reconnectToStream`).",
    description:
      "The UI message stream of the session's running turn segment, from its `start` chunk, as the chat route sends it; 204 when no turn runs. `chatId` is the chat's id (the session's).",
    parameters: [
      { name: "sessionId", in: "path", required: true, schema: { type: "string" } },
      { name: "chatId", in: "path", required: true, schema: { type: "string" } },
    ],
    responses: {
      "200": { description: "The UI message stream.", content: { "text/event-stream": { schema: { type: "string" } } } },
      "204": { description: "No turn of the session runs." },
      ...lashErrors([400, 404, 500, 503]),
    },
  },
};

/** The path items of the compatibility routes, for the OpenAPI document. */
export function compatibilityPaths(): Record<string, JsonSchemaObject> {
  return {
    "/v1/chat/completions": chatCompletions,
    "/v1/sessions/{sessionId}/chat": uiChat,
    "/v1/sessions/{sessionId}/chat/{chatId}/stream": uiChatReconnect,
  };
}
