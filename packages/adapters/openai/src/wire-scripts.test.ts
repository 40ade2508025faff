import type { ModelProvider } from "@lash/protocol";
import type { ProviderTimeouts } from "@lash/provider-utils";
import { bundledWireScriptsDirectory, loadWireScripts, startWireScriptServer, type WireScript } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { collectCall, failureOf, userRequest } from "../test/provider-harness.js";
import { createOpenAIChatProvider } from "./chat-provider.js";
import { createOpenAIResponsesProvider } from "./responses-provider.js";

const scripts = await loadWireScripts(bundledWireScriptsDirectory(), { providerKinds: ["openai-compatible", "openai", "codex"] });

/** Short timeouts for the scripts that test them; the defaults (minutes) elsewhere. */
function timeoutsFor(script: WireScript): Partial<ProviderTimeouts> {
  const silentAt = script.timeline.findIndex((event) => event.event === "timeout");
  if (silentAt === -1) return {};
  const started = script.timeline.slice(0, silentAt).some((event) => event.event === "response_start");
  return started ? { chunkTimeoutMs: 150 } : { requestTimeoutMs: 150 };
}

function matcherValue(script: WireScript, path: string): unknown {
  const matcher = script.request_match.body?.[path];
  return matcher !== undefined && "equals" in matcher ? matcher.equals : undefined;
}

/** Headers the script wants that are not the adapter's own (`authorization`, `content-type`). */
function extraHeaders(script: WireScript): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, matcher] of Object.entries(script.request_match.headers ?? {})) {
    if (name === "authorization" || name === "content-type") continue;
    if ("contains" in matcher && typeof matcher.contains === "string") headers[name] = matcher.contains;
    if ("equals" in matcher && typeof matcher.equals === "string") headers[name] = matcher.equals;
  }
  return headers;
}

/** The provider a script is written for, pointed at the server (the endpoint's API path removed). */
function providerFor(script: WireScript, baseUrl: string): ModelProvider {
  const chat = script.provider_kind === "openai-compatible";
  const suffix = chat ? "/chat/completions" : "/responses";
  if (!script.endpoint.path.endsWith(suffix)) throw new Error(`${script.name}: unexpected endpoint ${script.endpoint.path}`);
  const options = {
    baseURL: `${baseUrl}${script.endpoint.path.slice(0, -suffix.length)}`,
    apiKey: "test-key",
    headers: extraHeaders(script),
    stream: matcherValue(script, "stream") !== false,
    timeouts: timeoutsFor(script),
  };
  return chat ? createOpenAIChatProvider(options) : createOpenAIResponsesProvider(options);
}

describe("provider wire scripts (openai-compatible, openai, codex) over loopback HTTP", () => {
  it("covers every script of the three kinds", () => {
    expect(scripts.map((script) => script.name)).toEqual([
      "codex.responses-mid-stream-disconnect",
      "codex.responses-rate-limit-429",
      "codex.responses-text-stream",
      "codex.responses-tool-call-stream",
      "openai-compatible.chat-mid-stream-disconnect",
      "openai-compatible.chat-rate-limit-429",
      "openai-compatible.chat-response-start-timeout",
      "openai-compatible.chat-stream-chunk-timeout",
      "openai-compatible.chat-tool-call-split-stream",
      "openai-compatible.chat-validation-error",
      "openai.chat-per-minute-429",
      "openai.responses-text-stream",
    ]);
  });

  for (const script of scripts) {
    it(script.name, async () => {
      const server = await startWireScriptServer(script, { timeScale: 1 });
      try {
        const model = matcherValue(script, "model");
        if (typeof model !== "string") throw new Error(`${script.name}: the script names no model`);
        const call = await collectCall(providerFor(script, server.baseUrl), userRequest(model));
        expect(server.mismatches).toEqual([]);
        expect(server.requests).toHaveLength(1);

        const expected = script.expected_provider;
        if (expected?.terminal_reason !== undefined || expected?.text !== undefined || expected?.tool_names !== undefined) {
          expect(call.error).toBeUndefined();
          const response = call.response;
          if (expected.terminal_reason !== undefined) expect(response?.terminalReason).toBe(expected.terminal_reason);
          if (expected.text !== undefined) expect(response?.fullText).toBe(expected.text);
          if (expected.tool_names !== undefined) {
            const names = response?.parts.flatMap((part) => (part.type === "tool_call" ? [part.toolName] : []));
            expect(names).toEqual(expected.tool_names);
          }
          return;
        }
        expect(call.response).toBeUndefined();
        const failure = failureOf(call);
        if (expected === undefined) {
          // A recorded-reality body with no expectation: its classification is what matters.
          const status = script.timeline.find((event) => event.event === "http_error");
          expect(failure.status).toBe(status?.event === "http_error" ? status.status : undefined);
          expect(failure.retryable).toBe(true);
          return;
        }
        if (expected.status !== undefined) expect(failure.status).toBe(expected.status);
        if (expected.retryable_after_classification !== undefined) expect(failure.retryable).toBe(expected.retryable_after_classification);
        if (expected.retryable !== undefined) expect(failure.retryable).toBe(expected.retryable);
        if (expected.kind !== undefined) expect(failure.kind).toBe(expected.kind.toLowerCase());
        if (expected.code !== undefined) expect(failure.code).toBe(expected.code);
        if (expected.stream_failure === true) expect(failure.kind).toBe("stream");
        if (expected.stream_error !== undefined) {
          // The script's message names the scripted disconnect; a real socket carries no message,
          // so what is checked is that the drop is a retryable stream failure.
          expect(failure.kind).toBe("stream");
          expect(failure.retryable).toBe(true);
        }
        if (expected.stream_events_committed !== undefined) expect(call.events).toHaveLength(expected.stream_events_committed);
      } finally {
        await server.close();
      }
    });
  }
});

describe("details the scripts imply", () => {
  const byName = (name: string): WireScript => {
    const script = scripts.find((candidate) => candidate.name === name);
    if (script === undefined) throw new Error(`no script ${name}`);
    return script;
  };

  it("joins a UTF-8 character split across chunks and assembles split tool-call arguments", async () => {
    const script = byName("openai-compatible.chat-tool-call-split-stream");
    const server = await startWireScriptServer(script, { timeScale: 1 });
    try {
      const call = await collectCall(providerFor(script, server.baseUrl), userRequest("openai/gpt-5.4"));
      expect(call.events).toEqual([
        { type: "delta", text: "café " },
        { type: "part", part: { type: "tool_call", callId: "call_1", toolName: "lookup", inputJson: '{"q":"x"}' } },
      ]);
      expect(call.response?.parts).toEqual([
        { type: "text", text: "café " },
        { type: "tool_call", callId: "call_1", toolName: "lookup", inputJson: '{"q":"x"}' },
      ]);
      expect(server.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    } finally {
      await server.close();
    }
  });

  it("keeps Retry-After, repeated headers and the error body of a 429", async () => {
    const script = byName("openai-compatible.chat-rate-limit-429");
    const server = await startWireScriptServer(script, { timeScale: 1 });
    try {
      const failure = failureOf(await collectCall(providerFor(script, server.baseUrl), userRequest("openai/gpt-5.4")));
      expect(failure).toMatchObject({
        kind: "http",
        status: 429,
        retryable: true,
        retryAfterMs: 7_000,
        code: "rate_limit_exceeded",
        message: "HTTP 429: Rate limit reached for requests",
      });
      expect(failure.headers?.["x-request-id"]).toBe("req-429-a, req-429-b");
      expect(failure.raw).toContain("rate_limit_error");
    } finally {
      await server.close();
    }
  });

  it("classifies a ChatGPT usage limit with Retry-After as a retryable quota failure", async () => {
    const script = byName("codex.responses-rate-limit-429");
    const server = await startWireScriptServer(script, { timeScale: 1 });
    try {
      const failure = failureOf(await collectCall(providerFor(script, server.baseUrl), userRequest("gpt-5.4-codex")));
      expect(failure).toMatchObject({ kind: "quota", status: 429, retryable: true, retryAfterMs: 9_000 });
    } finally {
      await server.close();
    }
  });

  it("takes the wait from OpenAI's message when no Retry-After header came", async () => {
    const script = byName("openai.chat-per-minute-429");
    const server = await startWireScriptServer(script, { timeScale: 1 });
    try {
      const failure = failureOf(await collectCall(providerFor(script, server.baseUrl), userRequest("gpt-5.4")));
      expect(failure).toMatchObject({ status: 429, retryable: true, retryAfterMs: 3_646, code: "rate_limit_exceeded" });
    } finally {
      await server.close();
    }
  });

  it("a 400 is a validation failure, not retryable", async () => {
    const script = byName("openai-compatible.chat-validation-error");
    const server = await startWireScriptServer(script, { timeScale: 1 });
    try {
      const failure = failureOf(await collectCall(providerFor(script, server.baseUrl), userRequest("openai/gpt-5.4")));
      expect(failure).toMatchObject({ kind: "validation", status: 400, retryable: false });
    } finally {
      await server.close();
    }
  });

  it("streams Responses text as parts carrying the message id and phase, and function calls as parts", async () => {
    const textScript = byName("codex.responses-text-stream");
    const textServer = await startWireScriptServer(textScript, { timeScale: 1 });
    try {
      const call = await collectCall(providerFor(textScript, textServer.baseUrl), userRequest("gpt-5.4-codex"));
      expect(call.events).toEqual([
        { type: "part", part: { type: "text", text: "Codex direct answer.", responseMeta: { id: "msg_1", phase: "final_answer" } } },
        { type: "usage", usage: { inputTokens: 7, outputTokens: 3, cachedInputTokens: 0, reasoningTokens: 0 } },
      ]);
      expect(call.response?.parts).toEqual([
        { type: "text", text: "Codex direct answer.", responseMeta: { id: "msg_1", status: "completed", phase: "final_answer" } },
      ]);
      expect(textServer.requests[0]?.body).toMatchObject({ store: false, include: ["reasoning.encrypted_content"] });
    } finally {
      await textServer.close();
    }
    const toolScript = byName("codex.responses-tool-call-stream");
    const toolServer = await startWireScriptServer(toolScript, { timeScale: 1 });
    try {
      const call = await collectCall(providerFor(toolScript, toolServer.baseUrl), userRequest("gpt-5.4-codex"));
      expect(call.response?.parts).toEqual([
        { type: "tool_call", callId: "call_1", toolName: "lookup", inputJson: '{"q":"x"}', replay: { itemId: "fc_1" } },
      ]);
      expect(call.response?.usage).toEqual({ inputTokens: 8, outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 0 });
    } finally {
      await toolServer.close();
    }
  });
});
