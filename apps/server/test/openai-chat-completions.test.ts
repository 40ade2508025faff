import { errorStep, ScriptedProvider, textStep, toolCallStep } from "@lash/adapter-scripted";
import { defineTool } from "@lash/core";
import type { LlmRequest } from "@lash/protocol";
import { chatCompletionChunkSchema, chatCompletionSchema, openAiErrorBodySchema } from "@lash/remote-protocol";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { requestJson, startTestServer, type TestServer } from "./server-harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function client(running: TestServer): OpenAI {
  // The server takes no key without keys configured; the client insists on one.
  return new OpenAI({ baseURL: `${running.url}/v1`, apiKey: "not-needed", maxRetries: 0 });
}

/** The texts of a model request's messages, as `role: text` lines (what the model was shown). */
function conversation(request: LlmRequest): string[] {
  return request.messages.map(
    (message) =>
      `${message.role}: ${message.blocks.map((block) => ("text" in block && typeof block.text === "string" ? block.text : "")).join("")}`,
  );
}

describe("POST /v1/chat/completions with the official openai client", () => {
  it("answers a completion with usage and the session header, and continues that session through the header", async () => {
    const seen: string[][] = [];
    server = await startTestServer({
      provider: new ScriptedProvider([
        textStep("Hello! I am lash.", { usage: { inputTokens: 120, outputTokens: 9, cachedInputTokens: 20 } }),
        {
          ...textStep("You said hello before.", { usage: { inputTokens: 150, outputTokens: 7 } }),
          expect: (request) => {
            seen.push(conversation(request));
          },
        },
      ]),
    });
    const openai = client(server);
    const first = await openai.chat.completions.create({ model: "default", messages: [{ role: "user", content: "Hello" }] }).withResponse();
    const completion = chatCompletionSchema.parse(first.data);
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      message: { role: "assistant", content: "Hello! I am lash." },
      finish_reason: "stop",
    });
    expect(completion.usage).toEqual({
      prompt_tokens: 120,
      completion_tokens: 9,
      total_tokens: 129,
      prompt_tokens_details: { cached_tokens: 20 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    const sessionId = first.response.headers.get("x-lash-session-id");
    expect(sessionId).toBe(completion.lash.session_id);
    expect(completion.id).toBe(`chatcmpl-${completion.lash.turn_id}`);

    // A stateless client resends the whole conversation; with the header, the session's own history counts.
    const second = await openai.chat.completions.create(
      {
        model: "default",
        messages: [
          { role: "user", content: "Hello" },
          { role: "assistant", content: "Hello! I am lash." },
          { role: "user", content: "What did I say?" },
        ],
      },
      { headers: { "x-lash-session-id": sessionId ?? "" } },
    );
    expect(second.choices[0]?.message.content).toBe("You said hello before.");
    expect(seen[0]?.filter((line) => !line.startsWith("system"))).toEqual([
      "user: Hello",
      "assistant: Hello! I am lash.",
      "user: What did I say?",
    ]);
    const state = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
    expect(state.body).toMatchObject({ id: sessionId, turnIndex: 2, profile: "default" });
  });

  it("streams chunks, reasoning as reasoning_content, the finish reason, and a last usage chunk when asked", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([
        {
          events: [
            { type: "reasoning_delta", text: "The user greets me. " },
            { type: "delta", text: "Streaming " },
            { type: "delta", text: "in pieces." },
          ],
          response: {
            fullText: "Streaming in pieces.",
            parts: [{ type: "text", text: "Streaming in pieces." }],
            usage: { inputTokens: 40, outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 3 },
            terminalReason: "stop",
          },
        },
      ]),
    });
    const stream = await client(server).chat.completions.create({
      model: "default",
      messages: [{ role: "user", content: "Stream it" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chatCompletionChunkSchema.parse(chunk));
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe("Streaming in pieces.");
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.reasoning_content ?? "").join("")).toBe("The user greets me. ");
    const finish = chunks.at(-2);
    expect(finish?.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    expect(finish?.lash?.outcome.type).toBe("finished");
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({
      prompt_tokens: 40,
      completion_tokens: 8,
      total_tokens: 48,
      completion_tokens_details: { reasoning_tokens: 3 },
    });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  it("starts a new session with the earlier messages of a stateless client as its history", async () => {
    const seen: string[][] = [];
    server = await startTestServer({
      provider: new ScriptedProvider([
        {
          ...textStep("Paris."),
          expect: (request) => {
            seen.push(conversation(request));
          },
        },
      ]),
      profile: { systemPrompt: "You are the travel desk." },
    });
    const answer = await client(server).chat.completions.create({
      model: "default",
      messages: [
        { role: "system", content: "Answer in one word." },
        { role: "user", content: [{ type: "text", text: "I want to see France." }] },
        { role: "assistant", content: "Which city?" },
        { role: "user", content: "The capital." },
      ],
    });
    expect(answer.choices[0]?.message.content).toBe("Paris.");
    const shown = seen[0] ?? [];
    // The profile's prompt comes first; the client's system message follows it (as the runtime
    // renders a system message of the conversation), then the conversation.
    expect(shown[0]).toContain("You are the travel desk.");
    expect(shown[1]?.startsWith("system: ")).toBe(true);
    expect(shown[1]).toContain("Answer in one word.");
    expect(shown.slice(2)).toEqual(["user: I want to see France.", "assistant: Which city?", "user: The capital."]);
    const sessionId = (answer as unknown as { lash: { session_id: string } }).lash.session_id;
    const state = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
    expect((state.body as { messages: unknown[]; turnIndex: number }).messages).toHaveLength(5);
  });

  it("ends a turn that waits for approval with stop, a note naming the requests, and a header", async () => {
    const deployed: string[] = [];
    const deploy = defineTool({
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
    server = await startTestServer({
      provider: new ScriptedProvider([
        toolCallStep([{ callId: "call-1", name: "deploy", args: { service: "api" } }], { text: "Deploying api." }),
        textStep("api is live."),
      ]),
      profile: { tools: [deploy] },
    });
    const { data, response } = await client(server)
      .chat.completions.create({ model: "default", messages: [{ role: "user", content: "Deploy api" }] })
      .withResponse();
    const completion = chatCompletionSchema.parse(data);
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.lash.outcome).toMatchObject({ type: "stopped", stop: { type: "awaiting_approval" } });
    const approvalId = response.headers.get("x-lash-awaiting-approval") ?? "";
    expect(approvalId).not.toBe("");
    const content = completion.choices[0]?.message.content ?? "";
    expect(content.startsWith("Deploying api.\n\n[lash] This turn is waiting for approval: deploy (deploy api to production)")).toBe(true);
    expect(content).toContain(approvalId);
    expect(content).toContain(`/v1/sessions/${completion.lash.session_id}/approvals/`);
    expect(deployed).toEqual([]);

    // The decision comes first: another completion in that session is a 409.
    const refused = await client(server)
      .chat.completions.create(
        { model: "default", messages: [{ role: "user", content: "Anything else?" }] },
        { headers: { "x-lash-session-id": completion.lash.session_id } },
      )
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 409, code: "turn_awaiting_approval" });

    // The same session goes on through the lash API once someone decides.
    const decided = await requestJson(`${server.url}/v1/sessions/${completion.lash.session_id}/approvals/${approvalId}`, {
      body: { decision: "approve" },
    });
    expect(decided.body).toMatchObject({ answer: { text: "api is live." } });
    expect(deployed).toEqual(["api"]);
  });

  it("reads an output limit as length and a refusal as content_filter", async () => {
    const stopped = (text: string, terminalReason: "output_limit" | "content_filter") => ({
      events: [{ type: "delta" as const, text }],
      response: { fullText: text, parts: [{ type: "text" as const, text }], terminalReason },
    });
    server = await startTestServer({
      provider: new ScriptedProvider([stopped("A long answer that was cut", "output_limit"), stopped("", "content_filter")]),
    });
    const openai = client(server);
    const cut = await openai.chat.completions.create({ model: "default", messages: [{ role: "user", content: "Tell me everything" }] });
    expect(cut.choices[0]).toMatchObject({ finish_reason: "length", message: { content: "A long answer that was cut" } });
    const stream = await openai.chat.completions.create({
      model: "default",
      messages: [{ role: "user", content: "Something bad" }],
      stream: true,
    });
    const reasons: Array<string | null> = [];
    for await (const chunk of stream) reasons.push(chunk.choices[0]?.finish_reason ?? null);
    expect(reasons.at(-1)).toBe("content_filter");
  });

  it("answers errors in OpenAI's shape, which the client raises as its typed errors", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([
        errorStep({ message: "HTTP 401: invalid key", status: 401 }),
        errorStep({ message: "HTTP 401: invalid key", status: 401 }),
      ]),
    });
    const openai = client(server);
    const user = [{ role: "user" as const, content: "Hello" }];

    const unknownModel = await openai.chat.completions.create({ model: "gpt-nothing", messages: user }).catch((error: unknown) => error);
    expect(unknownModel).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknownModel).toMatchObject({ status: 404, code: "model_not_found", type: "invalid_request_error", param: "model" });

    const withTools = await openai.chat.completions
      .create({
        model: "default",
        messages: user,
        tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
      })
      .catch((error: unknown) => error);
    expect(withTools).toBeInstanceOf(OpenAI.BadRequestError);
    expect(withTools).toMatchObject({ status: 400, param: "tools" });
    expect(String((withTools as Error).message)).toContain("own tools run on the server");

    const unknownSession = await openai.chat.completions
      .create({ model: "default", messages: user }, { headers: { "x-lash-session-id": "no-such-session" } })
      .catch((error: unknown) => error);
    expect(unknownSession).toMatchObject({ status: 404, code: "session_not_found" });

    const toolResult = await openai.chat.completions
      .create({ model: "default", messages: [...user, { role: "tool", tool_call_id: "c1", content: "42" }] })
      .catch((error: unknown) => error);
    expect(toolResult).toMatchObject({ status: 400, param: "messages.1.role" });

    // A provider that fails: 502 for a JSON answer, an error event (thrown by the client) in a stream.
    const failed = await openai.chat.completions.create({ model: "default", messages: user }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect(failed).toMatchObject({ status: 502, code: "provider_failure", type: "server_error" });
    const stream = await openai.chat.completions.create({ model: "default", messages: user, stream: true });
    const streamed = await (async () => {
      for await (const _chunk of stream) {
        // Reads until the error event.
      }
    })().catch((error: unknown) => error);
    expect(streamed).toBeInstanceOf(OpenAI.APIError);
    expect(streamed).toMatchObject({ code: "provider_failure" });

    for (const [rawBody, headers] of [
      ["{not json", { "content-type": "application/json" }],
      [JSON.stringify({ model: "default", messages: user, n: 2 }), { "content-type": "application/json" }],
      [JSON.stringify({ model: "default", messages: user }), { "content-type": "text/plain" }],
    ] as const) {
      const refused = await requestJson(`${server.url}/v1/chat/completions`, { rawBody, headers });
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(openAiErrorBodySchema.safeParse(refused.body).success, JSON.stringify(refused.body)).toBe(true);
    }
    expect((await requestJson(`${server.url}/v1/chat/completions`)).status).toBe(405);
  });
});
