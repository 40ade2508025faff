import { LashError, type LlmRequest, type LlmStreamEvent, ProviderCallError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import {
  createScriptedConversationProvider,
  InvalidScriptedConversationError,
  parseScriptedConversation,
  SCRIPTED_CONVERSATION_FORMAT,
  scriptedRetryPolicy,
} from "./scripted-conversation.js";

const request: LlmRequest = {
  model: "scripted-model",
  messages: [{ role: "user", blocks: [{ type: "text", text: "hi" }] }],
  attachments: [],
  tools: [],
  toolChoice: "auto",
};

async function call(provider: ReturnType<typeof createScriptedConversationProvider>) {
  const events: LlmStreamEvent[] = [];
  const response = await provider.doComplete!(request, { signal: new AbortController().signal, emit: (event) => void events.push(event) });
  return { events, response };
}

describe("scripted conversation files", () => {
  it("plays text in chunks, tool calls and a retryable error, in order, with the recorded usage", async () => {
    const conversation = parseScriptedConversation({
      format: SCRIPTED_CONVERSATION_FORMAT,
      model: "replay-model",
      steps: [
        { text: "abcdef", chunks: 3, usage: { input: 10, output: 2, cached: 4 } },
        { text: "Looking.", toolCalls: [{ name: "lookup", args: { id: 7 }, callId: "c1" }] },
        { error: { message: "overloaded", status: 503 } },
      ],
    });
    const provider = createScriptedConversationProvider(conversation);
    expect(provider.defaultModel).toBe("replay-model");

    const first = await call(provider);
    expect(first.events.flatMap((event) => (event.type === "delta" ? [event.text] : []))).toEqual(["ab", "cd", "ef"]);
    expect(first.response.usage).toMatchObject({ inputTokens: 10, outputTokens: 2, cachedInputTokens: 4 });

    const second = await call(provider);
    expect(second.response).toMatchObject({
      terminalReason: "tool_use",
      parts: [
        { type: "text", text: "Looking." },
        { type: "tool_call", callId: "c1", toolName: "lookup", inputJson: '{"id":7}' },
      ],
    });

    const failure = await call(provider).catch((error: unknown) => error);
    expect(ProviderCallError.isInstance(failure)).toBe(true);
    expect((failure as ProviderCallError).failure).toMatchObject({ status: 503, retryable: true });
  });

  it("names every bad field of an untrusted document, as a typed invalid_argument error", () => {
    const thrown = (() => {
      try {
        parseScriptedConversation({ format: "something.else", steps: [{ text: 5 }, { toolCalls: [] }], extra: true });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(InvalidScriptedConversationError.isInstance(thrown)).toBe(true);
    expect(LashError.isInstance(thrown) && thrown.code).toBe("invalid_argument");
    const problems = (thrown as InvalidScriptedConversationError).problems.join("\n");
    expect(problems).toContain("`format`");
    expect(problems).toContain("`steps.0");
    expect(problems).toContain("`steps.1");
    expect(problems).toMatch(/extra/);
    expect(InvalidScriptedConversationError.isInstance(new LashError("invalid_argument", "other"))).toBe(false);
  });

  it("retries only when the conversation asks for it, with its own attempts and delay", () => {
    const base = { format: SCRIPTED_CONVERSATION_FORMAT, steps: [] } as const;
    expect(scriptedRetryPolicy(parseScriptedConversation(base))).toMatchObject({ enabled: false, maxAttempts: 1 });
    expect(scriptedRetryPolicy(parseScriptedConversation({ ...base, retry: { maxAttempts: 3, delayMs: 25 } }))).toEqual({
      enabled: true,
      maxAttempts: 3,
      baseDelayMs: 25,
      maxDelayMs: 25,
      jitterMs: 0,
      retryAfterCapMs: 25,
    });
    expect(createScriptedConversationProvider(parseScriptedConversation(base), { model: "chosen" }).defaultModel).toBe("chosen");
  });
});
