import { ScriptedProvider, textStep, toolCallStep } from "@lash/adapter-scripted";
import { defineTool } from "@lash/core";
import { approvalListResponseSchema } from "@lash/remote-protocol";
import {
  AbstractChat,
  type ChatInit,
  type ChatState,
  type ChatStatus,
  DefaultChatTransport,
  lastAssistantMessageIsCompleteWithApprovalResponses,
  parseJsonEventStream,
  readUIMessageStream,
  type UIMessage,
  type UIMessageChunk,
  uiMessageChunkSchema,
} from "ai";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createSession, gateTool, requestJson, startTestServer, type TestServer, waitUntil } from "./server-harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** POSTs a useChat body to the session's chat route. */
function postChat(url: string, sessionId: string, body: unknown): Promise<Response> {
  return fetch(`${url}/v1/sessions/${sessionId}/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Reads a UI message stream response with the AI SDK's own parser and schema: its chunks, and the message they build. */
async function readChunks(response: Response): Promise<{ chunks: UIMessageChunk[]; message: UIMessage | undefined }> {
  const chunks: UIMessageChunk[] = [];
  const parsed = parseJsonEventStream({ stream: response.body!, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(result, controller) {
        if (!result.success) throw result.error;
        chunks.push(result.value);
        controller.enqueue(result.value);
      },
    }),
  );
  let message: UIMessage | undefined;
  for await (const snapshot of readUIMessageStream({ stream: parsed, terminateOnError: true })) message = snapshot;
  return { chunks, message };
}

function userMessage(text: string): UIMessage {
  return { id: `user-${text.length}`, role: "user", parts: [{ type: "text", text }] };
}

/** `useChat`'s state, in memory (what `@ai-sdk/react` keeps in React state). */
class MemoryChatState implements ChatState<UIMessage> {
  status: ChatStatus = "ready";
  error: Error | undefined = undefined;
  messages: UIMessage[] = [];
  pushMessage = (message: UIMessage): void => {
    this.messages = [...this.messages, message];
  };
  popMessage = (): void => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (index: number, message: UIMessage): void => {
    this.messages = this.messages.map((existing, position) => (position === index ? message : existing));
  };
  snapshot = <Thing>(thing: Thing): Thing => structuredClone(thing);
}

/** The chat `useChat` drives, without React. */
class TestChat extends AbstractChat<UIMessage> {
  readonly memory: MemoryChatState;
  constructor(init: Omit<ChatInit<UIMessage>, "messages">) {
    const memory = new MemoryChatState();
    super({ ...init, state: memory });
    this.memory = memory;
  }
}

function deployTool(deployed: string[]) {
  return defineTool({
    name: "deploy",
    description: "Deploy a service.",
    inputSchema: z.object({ service: z.string() }),
    needsApproval: true,
    describeApproval: ({ service }) => `deploy ${service} to production`,
    execute: ({ service }) => {
      deployed.push(service);
      return `${service} is live`;
    },
  });
}

describe("POST /v1/sessions/{id}/chat: the AI SDK UI message stream", () => {
  it("streams a plain turn: start, a step with reasoning and text, finish with the usage in the message metadata", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([
        {
          events: [
            { type: "reasoning_delta", text: "A greeting." },
            { type: "delta", text: "Hello " },
            { type: "delta", text: "there!" },
          ],
          response: {
            fullText: "Hello there!",
            parts: [{ type: "text", text: "Hello there!" }],
            usage: { inputTokens: 12, outputTokens: 3, cachedInputTokens: 0, reasoningTokens: 2 },
            terminalReason: "stop",
          },
        },
      ]),
    });
    const sessionId = await createSession(server);
    const response = await postChat(server.url, sessionId, { id: "chat-1", messages: [userMessage("Hi")], trigger: "submit-message" });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const turnId = response.headers.get("lash-turn-id");
    const { chunks, message } = await readChunks(response);
    expect(chunks.map((chunk) => chunk.type)).toEqual([
      "start",
      "start-step",
      "reasoning-start",
      "reasoning-delta",
      "reasoning-end",
      "text-start",
      "text-delta",
      "text-delta",
      "text-end",
      "finish-step",
      "finish",
    ]);
    expect(message?.id).toBe(turnId);
    expect(message?.parts).toMatchObject([
      { type: "step-start" },
      { type: "reasoning", text: "A greeting." },
      { type: "text", text: "Hello there!" },
    ]);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    expect(message?.metadata).toMatchObject({
      lash: { sessionId, turnId, outcome: "finished", usage: { inputTokens: 12, outputTokens: 3, reasoningTokens: 2, totalTokens: 17 } },
    });
    // The session holds the turn like any other.
    expect((await requestJson(`${server.url}/v1/sessions/${sessionId}`)).body).toMatchObject({ turnIndex: 1 });
  });

  it("streams a tool turn: the tool part goes from its input to its output, then the next step answers", async () => {
    const lookup = defineTool({
      name: "ticket_status",
      description: "The status of a support ticket.",
      inputSchema: z.object({ id: z.number().int() }),
      execute: ({ id }) => ({ id, status: "open" }),
    });
    server = await startTestServer({
      provider: new ScriptedProvider([
        toolCallStep([{ callId: "call-7", name: "ticket_status", args: { id: 42 } }]),
        textStep("Ticket 42 is open."),
      ]),
      profile: { tools: [lookup] },
    });
    const sessionId = await createSession(server);
    const { chunks, message } = await readChunks(
      await postChat(server.url, sessionId, { id: "chat-1", messages: [userMessage("Is 42 open?")], trigger: "submit-message" }),
    );
    expect(chunks.filter((chunk) => chunk.type.startsWith("tool-")).map((chunk) => chunk.type)).toEqual([
      "tool-input-start",
      "tool-input-available",
      "tool-output-available",
    ]);
    expect(message?.parts).toMatchObject([
      { type: "step-start" },
      {
        type: "tool-ticket_status",
        toolCallId: "call-7",
        state: "output-available",
        input: { id: 42 },
        output: { id: 42, status: "open" },
      },
      { type: "step-start" },
      { type: "text", text: "Ticket 42 is open." },
    ]);
  });

  it("asks for approval with tool-approval-request, and useChat's approval response continues the same turn", async () => {
    const deployed: string[] = [];
    server = await startTestServer({
      provider: new ScriptedProvider([
        toolCallStep([{ callId: "call-1", name: "deploy", args: { service: "api" } }], { text: "Deploying api." }),
        textStep("api is live."),
        toolCallStep([{ callId: "call-2", name: "deploy", args: { service: "billing" } }]),
        textStep("billing was not deployed."),
      ]),
      profile: { tools: [deployTool(deployed)] },
    });
    const sessionId = await createSession(server);
    // The README's configuration: only the last message is sent.
    const chat = new TestChat({
      id: sessionId,
      transport: new DefaultChatTransport({
        api: `${server.url}/v1/sessions/${sessionId}/chat`,
        prepareSendMessagesRequest: ({ id, messages, trigger, messageId }) => ({
          body: { id, messages: messages.slice(-1), trigger, ...(messageId === undefined ? {} : { messageId }) },
        }),
      }),
      sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
    });
    const toolPart = () =>
      chat.messages.at(-1)?.parts.findLast((part) => part.type === "tool-deploy") as
        | { state: string; approval?: { id: string; approved?: boolean } }
        | undefined;

    await chat.sendMessage({ text: "Deploy api" });
    expect(chat.error).toBeUndefined();
    const asked = toolPart();
    expect(asked).toMatchObject({ state: "approval-requested" });
    const { approvals } = approvalListResponseSchema.parse((await requestJson(`${server.url}/v1/sessions/${sessionId}/approvals`)).body);
    expect(asked?.approval?.id).toBe(approvals[0]?.id);
    const waitingMessage = chat.messages.at(-1);
    expect(waitingMessage?.metadata).toMatchObject({ lash: { outcome: "stopped", stop: "awaiting_approval" } });
    expect(deployed).toEqual([]);
    // A new message before the decision is refused: the waiting turn comes first.
    const early = await postChat(server.url, sessionId, {
      id: sessionId,
      messages: [userMessage("Something else")],
      trigger: "submit-message",
    });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe("turn_awaiting_approval");

    await chat.addToolApprovalResponse({ id: asked?.approval?.id ?? "", approved: true });
    await waitUntil(() => chat.status === "ready" && toolPart()?.state === "output-available");
    expect(chat.error).toBeUndefined();
    expect(deployed).toEqual(["api"]);
    // The same assistant message (its id is the turn's) gets the tool's output and the answer.
    expect(chat.messages).toHaveLength(2);
    expect(chat.messages[1]?.id).toBe(waitingMessage?.id);
    expect(chat.messages[1]?.metadata).toMatchObject({ lash: { outcome: "finished", stop: null } });
    expect(chat.messages[1]?.parts.filter((part) => part.type === "text").map((part) => (part as { text: string }).text)).toEqual([
      "Deploying api.",
      "api is live.",
    ]);

    // A rejection: the tool part ends denied, the tool never runs, the model answers.
    await chat.sendMessage({ text: "Deploy billing" });
    const second = toolPart();
    expect(second).toMatchObject({ state: "approval-requested" });
    await chat.addToolApprovalResponse({ id: second?.approval?.id ?? "", approved: false, reason: "frozen until Monday" });
    await waitUntil(() => chat.status === "ready" && toolPart()?.state === "output-denied");
    expect(chat.messages.at(-1)?.parts.at(-1)).toMatchObject({ type: "text", text: "billing was not deployed." });
    expect(deployed).toEqual(["api"]);
    expect((await requestJson(`${server.url}/v1/sessions/${sessionId}`)).body).toMatchObject({ turnIndex: 2, awaitingApproval: false });
  });

  it("regenerates an answer on a new branch: the latest, then the first (a new root), with useChat's own regenerate()", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([textStep("one"), textStep("two"), textStep("two again"), textStep("one again")]),
    });
    const sessionId = await createSession(server);
    const chat = new TestChat({
      id: sessionId,
      transport: new DefaultChatTransport({
        api: `${server.url}/v1/sessions/${sessionId}/chat`,
        prepareSendMessagesRequest: ({ id, messages, trigger, messageId }) => ({
          body: { id, messages: messages.slice(-1), trigger, ...(messageId === undefined ? {} : { messageId }) },
        }),
      }),
    });
    const texts = (): string[] =>
      chat.messages.map((message) =>
        message.parts
          .filter((part) => part.type === "text")
          .map((part) => (part as { text: string }).text)
          .join(""),
      );
    const stored = async (): Promise<string[]> => {
      const body = (await requestJson(`${server?.url}/v1/sessions/${sessionId}`)).body as {
        messages: Array<{ role: string; parts: Array<{ kind: string; content?: string }> }>;
      };
      return body.messages.map((message) => `${message.role}:${message.parts.map((part) => part.content ?? "").join("")}`);
    };

    await chat.sendMessage({ text: "Hi" });
    await chat.sendMessage({ text: "More" });
    await waitUntil(() => chat.status === "ready");
    expect(texts()).toEqual(["Hi", "one", "More", "two"]);

    await chat.regenerate();
    await waitUntil(() => chat.status === "ready");
    expect(chat.error).toBeUndefined();
    expect(texts()).toEqual(["Hi", "one", "More", "two again"]);
    expect(await stored()).toEqual(["user:Hi", "assistant:one", "user:More", "assistant:two again"]);

    // The first answer: everything after "Hi" goes, on a branch with a new root.
    await chat.regenerate({ messageId: chat.messages[1]?.id ?? "" });
    await waitUntil(() => chat.status === "ready");
    expect(texts()).toEqual(["Hi", "one again"]);
    expect(await stored()).toEqual(["user:Hi", "assistant:one again"]);
  });

  it("refuses what it cannot do with lash's errors, before anything runs", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([]) });
    const sessionId = await createSession(server);
    const hi = [userMessage("Hi")];
    const cases: Array<[string, unknown, number, string]> = [
      ["no-such-session", { id: "c", messages: hi, trigger: "submit-message" }, 404, "session_not_found"],
      [sessionId, { id: "c", messages: hi, trigger: "regenerate-message" }, 400, "invalid_request"],
      [sessionId, { id: "c", messages: hi, trigger: "submit-message", model: "x" }, 400, "invalid_request"],
      [
        sessionId,
        { id: "c", messages: [{ id: "a", role: "assistant", parts: [{ type: "text", text: "?" }] }], trigger: "submit-message" },
        400,
        "invalid_request",
      ],
      [
        sessionId,
        {
          id: "c",
          messages: [{ id: "u", role: "user", parts: [{ type: "file", url: "data:,x", mediaType: "image/png" }] }],
          trigger: "submit-message",
        },
        400,
        "invalid_request",
      ],
      [
        sessionId,
        {
          id: "c",
          messages: [
            {
              id: "a",
              role: "assistant",
              parts: [{ type: "tool-deploy", toolCallId: "t", state: "approval-responded", approval: { id: "nope", approved: true } }],
            },
          ],
          trigger: "submit-message",
        },
        404,
        "approval_not_found",
      ],
    ];
    for (const [target, body, status, code] of cases) {
      const response = await postChat(server.url, target, body);
      expect({ status: response.status, body: await response.json() }, JSON.stringify(body).slice(0, 120)).toMatchObject({
        status,
        body: { error: { code } },
      });
    }
    expect((await requestJson(`${server.url}/v1/sessions/${sessionId}`)).body).toMatchObject({ turnIndex: 0 });
  });

  it("serves useChat's reconnect: the running turn's stream from its start, 204 when no turn runs", async () => {
    const { gate, tool } = gateTool();
    server = await startTestServer({
      provider: new ScriptedProvider([toolCallStep([{ callId: "gate-1", name: "wait_for_gate", args: {} }]), textStep("After the gate.")]),
      profile: { tools: [tool] },
    });
    const sessionId = await createSession(server);
    const transport = new DefaultChatTransport<UIMessage>({ api: `${server.url}/v1/sessions/${sessionId}/chat` });
    expect(await transport.reconnectToStream({ chatId: sessionId })).toBeNull();

    // The page that started the turn went away (its stream is dropped); the turn runs on.
    const first = await postChat(server.url, sessionId, {
      id: sessionId,
      messages: [userMessage("Wait for the gate")],
      trigger: "submit-message",
    });
    await first.body?.cancel();
    await gate.reached;

    // A reloaded page reconnects with the AI SDK's own transport and reads the whole message.
    const reconnected = await transport.reconnectToStream({ chatId: sessionId });
    expect(reconnected).not.toBeNull();
    gate.open();
    const chunks: UIMessageChunk[] = [];
    const reader = (reconnected as ReadableStream<UIMessageChunk>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    expect(chunks[0]).toMatchObject({ type: "start" });
    expect(chunks.map((chunk) => chunk.type)).toContain("tool-input-available");
    expect(
      chunks
        .filter((chunk) => chunk.type === "text-delta")
        .map((chunk) => (chunk as { delta: string }).delta)
        .join(""),
    ).toBe("After the gate.");
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    // Once the turn ended, nothing runs to reconnect to.
    await first.body?.cancel().catch(() => undefined);
    let after = await transport.reconnectToStream({ chatId: sessionId });
    while (after !== null) {
      await after.cancel();
      await new Promise((resolve) => setTimeout(resolve, 10));
      after = await transport.reconnectToStream({ chatId: sessionId });
    }
    expect(after).toBeNull();
  });
});
