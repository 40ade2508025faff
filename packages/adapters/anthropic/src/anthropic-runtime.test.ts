import { defineTool, InMemorySessionStore, LashRuntime, textInput } from "@lash/core";
import type { TurnActivity } from "@lash/protocol";
import { startWireScriptServer, type WireScript, type WireScriptServer } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  errorScript,
  messageEnd,
  messageStart,
  streamScript,
  textBlock,
  thinkingBlock,
  toolUseBlock,
} from "../test/anthropic-wire-streams.js";
import { createAnthropicProvider } from "./index.js";

/*
 * Full runtime turns over loopback HTTP: the runtime's request projection, the adapter, the SDK's
 * HTTP client, a scripted server, and back through assembly, usage and the activity stream.
 */

const MODEL = "claude-sonnet-4-20250514";

let server: WireScriptServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const add = defineTool({
  name: "add",
  description: "Add two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => ({ sum: a + b }),
});

/** Delays of a few milliseconds, so a test never waits for the real 2 s / 4 s / 8 s backoff. */
const FAST_RETRIES = { enabled: true, maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2, jitterMs: 0, retryAfterCapMs: 5 };

async function runtimeFor(scripts: readonly WireScript[]) {
  server = await startWireScriptServer(scripts);
  const provider = createAnthropicProvider({
    apiKey: "test-key",
    baseURL: server.baseUrl,
    defaultModel: MODEL,
    thinking: { budgetTokens: 2048 },
  });
  const runtime = await LashRuntime.builder()
    .withSessionId("anthropic-e2e")
    .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
    .withProvider(provider)
    .withTools([add])
    .withProviderRetryPolicy(FAST_RETRIES)
    .withStore(new InMemorySessionStore())
    .build();
  const activities: TurnActivity[] = [];
  return { runtime, server, activities, sink: { emit: (activity: TurnActivity) => void activities.push(activity) } };
}

describe("a LashRuntime turn over the Anthropic adapter", () => {
  it("runs a tool round trip with extended thinking and accounts the usage", async () => {
    const { runtime, server, activities, sink } = await runtimeFor([
      streamScript("tool-call", [
        messageStart({ input_tokens: 300, output_tokens: 1, cache_read_input_tokens: 1000, cache_creation_input_tokens: 50 }),
        ...thinkingBlock(0, ["Adding ", "two numbers."], "sig-round-trip"),
        ...toolUseBlock(1, "toolu_add", "add", ['{"a": 2', ', "b": 3}']),
        ...messageEnd("tool_use", { output_tokens: 60, output_tokens_details: { thinking_tokens: 20 } }),
      ]),
      streamScript("answer", [
        messageStart({ input_tokens: 40, output_tokens: 1, cache_read_input_tokens: 1350 }),
        ...textBlock(0, ["2 + 3 ", "= 5."]),
        ...messageEnd("end_turn", { output_tokens: 8 }),
      ]),
    ]);

    const turn = await runtime.streamTurn(textInput("What is 2 + 3?"), { activities: sink });

    expect(turn.errors).toEqual([]);
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "2 + 3 = 5." } });
    expect(turn.assistantOutput.safeText).toBe("2 + 3 = 5.");
    expect(turn.toolCalls).toHaveLength(1);
    expect(turn.toolCalls[0]).toMatchObject({ callId: "toolu_add", tool: "add", args: { a: 2, b: 3 } });
    expect(turn.toolCalls[0]?.output.outcome.status).toBe("success");

    // The second request carries the signed thinking block before the tool use, then the result.
    expect(server.requests).toHaveLength(2);
    const second = server.requests[1]?.body as {
      messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
      system?: unknown;
    };
    expect(second.system).toBeDefined();
    const assistant = second.messages.at(-2);
    expect(assistant?.role).toBe("assistant");
    expect(assistant?.content).toEqual([
      { type: "thinking", thinking: "Adding two numbers.", signature: "sig-round-trip" },
      { type: "tool_use", id: "toolu_add", name: "add", input: { a: 2, b: 3 } },
    ]);
    const results = second.messages.at(-1);
    expect(results?.role).toBe("user");
    expect(results?.content[0]).toMatchObject({ type: "tool_result", tool_use_id: "toolu_add" });
    expect(String(results?.content[0]?.content)).toContain("5");

    // Usage: input counts cache writes, cached counts cache reads, thinking is reasoning.
    const first = { inputTokens: 350, outputTokens: 40, cachedInputTokens: 1000, reasoningTokens: 20 };
    const last = { inputTokens: 40, outputTokens: 8, cachedInputTokens: 1350, reasoningTokens: 0 };
    const total = { inputTokens: 390, outputTokens: 48, cachedInputTokens: 2350, reasoningTokens: 20 };
    expect(turn.tokenUsage).toEqual(total);
    expect(runtime.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: total }]);
    // The prompt size of the last call counts the cached tokens once, beside the input.
    expect(runtime.exportState().lastPromptUsage).toEqual({
      promptContextTokens: last.inputTokens + last.cachedInputTokens,
      inputTokens: last.inputTokens,
      cachedInputTokens: last.cachedInputTokens,
      contextBudgetTokens: last.inputTokens + last.outputTokens + last.cachedInputTokens,
    });

    const types = activities.map((activity) => activity.type);
    const reasoning = activities.flatMap((activity) => (activity.type === "reasoning_delta" ? [activity.text] : []));
    // The thinking streams live, and is shown once (the final response does not repeat it).
    expect(reasoning).toEqual(["Adding ", "two numbers."]);
    const prose = activities.flatMap((activity) => (activity.type === "text_delta" ? [activity.text] : []));
    expect(prose.join("")).toBe("2 + 3 = 5.");
    expect(types.indexOf("reasoning_delta")).toBeLessThan(types.indexOf("tool_call_started"));
    expect(types.indexOf("tool_call_started")).toBeLessThan(types.indexOf("tool_call_completed"));
    expect(types.indexOf("tool_call_completed")).toBeLessThan(types.indexOf("text_delta"));
    const usage = activities.filter((activity) => activity.type === "usage");
    expect(usage.map((activity) => (activity.type === "usage" ? activity.usage : undefined))).toEqual([first, last]);
  });

  it("retries 429 and 529 answers with Retry-After, then succeeds", async () => {
    const rateLimited = {
      type: "error",
      error: { type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit" },
    };
    const overloaded = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
    const { runtime, server, activities, sink } = await runtimeFor([
      errorScript("rate-limited", 429, rateLimited, [{ name: "retry-after", value: "1" }]),
      errorScript("overloaded", 529, overloaded, [{ name: "retry-after", value: "2" }]),
      streamScript("answer", [messageStart(), ...textBlock(0, ["Finally."]), ...messageEnd("end_turn")]),
    ]);

    const turn = await runtime.streamTurn(textInput("Hello"), { activities: sink });

    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Finally." } });
    expect(server.requests).toHaveLength(3);
    const retries = activities.flatMap((activity) => (activity.type === "retry_status" ? [activity] : []));
    expect(retries.map(({ attempt, maxAttempts, waitSeconds }) => ({ attempt, maxAttempts, waitSeconds }))).toEqual([
      { attempt: 1, maxAttempts: 4, waitSeconds: 0 },
      { attempt: 2, maxAttempts: 4, waitSeconds: 0 },
    ]);
    expect(retries[0]?.reason).toContain("rate limit");
    expect(retries[1]?.reason).toContain("Overloaded");
  });

  it("does not retry a quota failure and ends the turn with a provider error", async () => {
    const quota = {
      type: "error",
      error: { type: "invalid_request_error", message: "Your credit balance is too low to access the Anthropic API." },
    };
    const { runtime, server, activities, sink } = await runtimeFor([errorScript("quota", 400, quota)]);

    const turn = await runtime.streamTurn(textInput("Hello"), { activities: sink });

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(server.requests).toHaveLength(1);
    expect(activities.some((activity) => activity.type === "retry_status")).toBe(false);
    expect(turn.errors[0]?.message).toContain("credit balance");
  });
});
