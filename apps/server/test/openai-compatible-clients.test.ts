import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { ScriptedProvider, textStep } from "@lash/adapter-scripted";
import { Agent, OpenAIChatCompletionsModel, run, setTracingDisabled } from "@openai/agents";
import { generateText, streamText } from "ai";
import OpenAI from "openai";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { requestJson, startTestServer, type TestServer } from "./server-harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

beforeAll(() => {
  // The Agents SDK exports traces to OpenAI by default: nothing leaves this machine in a test.
  setTracingDisabled(true);
});

describe("POST /v1/chat/completions with the AI SDK's OpenAI-compatible provider", () => {
  it("answers generateText and streamText with usage, and continues a session through the header", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([
        textStep("Hello from lash.", { usage: { inputTokens: 30, outputTokens: 4 } }),
        textStep("Streamed from lash.", { chunks: 3, usage: { inputTokens: 50, outputTokens: 5 } }),
      ]),
    });
    const lash = createOpenAICompatible({ name: "lash", baseURL: `${server.url}/v1`, includeUsage: true });

    const generated = await generateText({ model: lash("default"), prompt: "Hello" });
    expect(generated.text).toBe("Hello from lash.");
    expect(generated.finishReason).toBe("stop");
    expect(generated.usage).toMatchObject({ inputTokens: 30, outputTokens: 4, totalTokens: 34 });
    const sessionId = generated.response.headers?.["x-lash-session-id"];
    expect(sessionId).toBeDefined();

    const streamed = streamText({ model: lash("default"), prompt: "Stream it", headers: { "x-lash-session-id": sessionId ?? "" } });
    let text = "";
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toBe("Streamed from lash.");
    expect(await streamed.finishReason).toBe("stop");
    expect(await streamed.totalUsage).toMatchObject({ inputTokens: 50, outputTokens: 5 });
    expect((await streamed.response).headers?.["x-lash-session-id"]).toBe(sessionId);

    const state = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
    expect(state.body).toMatchObject({ turnIndex: 2 });
  });

  it("names the session in metadata.session_id through provider options, for clients that cannot set headers", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("First."), textStep("Second.")]) });
    const lash = createOpenAICompatible({ name: "lash", baseURL: `${server.url}/v1` });
    const first = await generateText({ model: lash("default"), prompt: "One" });
    const sessionId = first.response.headers?.["x-lash-session-id"] ?? "";
    const second = await generateText({
      model: lash("default"),
      prompt: "Two",
      providerOptions: { lash: { metadata: { session_id: sessionId } } },
    });
    expect(second.text).toBe("Second.");
    expect(second.response.headers?.["x-lash-session-id"]).toBe(sessionId);
  });
});

describe("POST /v1/chat/completions with the OpenAI Agents SDK", () => {
  it("runs an Agent on OpenAIChatCompletionsModel, plain and streamed", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([textStep("Ticket 42 is open."), textStep("It was opened on Monday.", { chunks: 4 })]),
    });
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "not-needed", maxRetries: 0 });
    const agent = new Agent({
      name: "Support",
      instructions: "You answer questions about support tickets.",
      model: new OpenAIChatCompletionsModel(openai, "default"),
    });
    const result = await run(agent, "Is ticket 42 open?");
    expect(result.finalOutput).toBe("Ticket 42 is open.");

    const streamed = await run(agent, "Since when?", { stream: true });
    let text = "";
    for await (const chunk of streamed.toTextStream()) text += chunk;
    await streamed.completed;
    expect(text).toBe("It was opened on Monday.");
    expect(streamed.finalOutput).toBe("It was opened on Monday.");
  });
});
