import {
  type LlmMessage,
  type LlmOutputPart,
  type LlmRequest,
  type LlmResponse,
  type ModelProvider,
  ProviderCallError,
  type ProviderCallOptions,
} from "@lash/protocol";
import {
  createToolCallAccumulator,
  type ProviderTimeouts,
  providerFailureFromHttp,
  providerFailureFromTransport,
  startRequestDeadline,
  terminalReasonFromFinishReason,
  usageFromCounts,
} from "@lash/provider-utils";
import { describe, expect, it } from "vitest";
import { bundledWireScriptsDirectory } from "../wire-script/bundled-wire-scripts.js";
import { loadWireScripts } from "../wire-script/load-wire-scripts.js";
import type { WireScript } from "../wire-script/wire-script-schema.js";
import { checkAbortMidStream, checkHttpErrorScript, checkSuccessScript, checkTimeoutScript } from "./conformance-checks.js";
import { describeModelProviderConformance } from "./describe-model-provider-conformance.js";
import type { ModelProviderConformanceHarness } from "./harness.js";

/** What the reference adapter can be told to get wrong, to prove the suite notices. */
interface ReferenceFlaws {
  /** Retries a failed HTTP call itself (the runtime's job). */
  readonly retriesInternally?: boolean;
  /** Decodes every network chunk on its own, so a UTF-8 character split across chunks breaks. */
  readonly decodesChunksSeparately?: boolean;
  /** Always reports `stop`. */
  readonly ignoresFinishReason?: boolean;
  /** Throws the raw abort error when its own deadline fires. */
  readonly leaksTimeoutAsAbort?: boolean;
  /** Reports the caller's abort as a retryable transport failure. */
  readonly classifiesAbortAsTransport?: boolean;
}

interface ReferenceOptions {
  readonly baseUrl: string;
  readonly timeouts: ProviderTimeouts;
  readonly flaws?: ReferenceFlaws;
}

function chatMessages(messages: readonly LlmMessage[]): { role: string; content: string }[] {
  return messages.map((message) => ({
    role: message.role,
    content: message.blocks.map((block) => (block.type === "text" ? block.text : "")).join(""),
  }));
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

/**
 * A small OpenAI-compatible Chat Completions adapter over plain `fetch`, built on the shared
 * run-time support of `@lash/provider-utils`: it always streams, and splits the SSE frames itself so that
 * a flaw can break the decoding.
 */
function createReferenceChatAdapter(options: ReferenceOptions): ModelProvider {
  const flaws = options.flaws ?? {};
  async function attempt(request: LlmRequest, { signal, emit }: ProviderCallOptions): Promise<LlmResponse> {
    signal.throwIfAborted();
    const body = JSON.stringify({
      model: request.model,
      stream: true,
      messages: chatMessages(request.messages),
      tools: request.tools.map((tool) => ({
        type: "function",
        function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
      })),
    });
    const deadline = startRequestDeadline({ timeouts: options.timeouts, signal });
    const toolCalls = createToolCallAccumulator();
    let text = "";
    let finishReason: string | undefined;
    let usage = usageFromCounts({});
    const handleFrame = async (frame: string): Promise<void> => {
      const data = frame
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data === "" || data === "[DONE]") return;
      const chunk = record(JSON.parse(data));
      const choice = record(Array.isArray(chunk.choices) ? chunk.choices[0] : undefined);
      const delta = record(choice.delta);
      if (typeof delta.content === "string" && delta.content !== "") {
        text += delta.content;
        await emit({ type: "delta", text: delta.content });
      }
      for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        const fields = record(call);
        const fn = record(fields.function);
        toolCalls.add({
          key: numberOrUndefined(fields.index) ?? 0,
          callId: typeof fields.id === "string" ? fields.id : null,
          toolName: typeof fn.name === "string" ? fn.name : null,
          argumentsDelta: typeof fn.arguments === "string" ? fn.arguments : null,
        });
      }
      if (typeof choice.finish_reason === "string") finishReason = choice.finish_reason;
      const reported = record(chunk.usage);
      if (Object.keys(reported).length > 0) {
        usage = usageFromCounts({
          input: numberOrUndefined(reported.prompt_tokens),
          output: numberOrUndefined(reported.completion_tokens),
        });
      }
    };
    try {
      const response = await fetch(`${options.baseUrl}/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer test-key", "content-type": "application/json" },
        body,
        signal: deadline.signal,
      });
      deadline.responseStarted();
      if (!response.ok) {
        const errorBody = await response.text();
        throw new ProviderCallError(providerFailureFromHttp({ status: response.status, headers: response.headers, body: errorBody }));
      }
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const bytes of response.body ?? []) {
        deadline.chunkReceived();
        buffer += flaws.decodesChunksSeparately ? new TextDecoder().decode(bytes) : decoder.decode(bytes, { stream: true });
        const frames = buffer.split(/\r?\n\r?\n/);
        buffer = frames.pop() ?? "";
        for (const frame of frames) await handleFrame(frame);
      }
      buffer += decoder.decode();
      if (buffer.trim() !== "") await handleFrame(buffer);
    } catch (error) {
      if (flaws.leaksTimeoutAsAbort && deadline.timedOut() !== undefined) throw new DOMException("aborted", "AbortError");
      if (flaws.classifiesAbortAsTransport && signal.aborted) {
        throw new ProviderCallError({ kind: "transport", message: "aborted", retryable: true, terminalReason: "provider_error" });
      }
      if (ProviderCallError.isInstance(error)) throw error;
      throw new ProviderCallError(providerFailureFromTransport(error, { signal, deadline }));
    } finally {
      deadline.dispose();
    }
    const parts: LlmOutputPart[] = [...(text === "" ? [] : [{ type: "text" as const, text }]), ...toolCalls.parts()];
    const terminalReason = flaws.ignoresFinishReason
      ? "stop"
      : toolCalls.size > 0
        ? "tool_use"
        : terminalReasonFromFinishReason(finishReason);
    return { fullText: text, parts, usage, terminalReason };
  }

  return {
    specificationVersion: "lash.provider.v1",
    providerId: "reference-chat-completions",
    async doComplete(request, callOptions) {
      try {
        return await attempt(request, callOptions);
      } catch (error) {
        if (flaws.retriesInternally && ProviderCallError.isInstance(error) && error.failure.retryable) return attempt(request, callOptions);
        throw error;
      }
    },
  };
}

/** The scripts recorded from non-streamed calls: this adapter always streams. */
const NON_STREAMED_SCRIPTS = [
  "openai-compatible.chat-rate-limit-429",
  "openai-compatible.chat-validation-error",
  "openai.chat-per-minute-429",
];

function referenceHarness(
  flaws?: ReferenceFlaws,
  overrides: Partial<ModelProviderConformanceHarness> = {},
): ModelProviderConformanceHarness {
  return {
    name: "reference Chat Completions adapter (plain fetch)",
    providerKinds: ["openai-compatible"],
    createProvider: ({ baseUrl, timeouts }) =>
      createReferenceChatAdapter(flaws === undefined ? { baseUrl, timeouts } : { baseUrl, timeouts, flaws }),
    ignoredRequestMatchers: Object.fromEntries(NON_STREAMED_SCRIPTS.map((name) => [name, ["body.stream"]])),
    ...overrides,
  };
}

describeModelProviderConformance(referenceHarness());

const scripts = new Map((await loadWireScripts(bundledWireScriptsDirectory())).map((script) => [script.name, script]));

function fixture(name: string): WireScript {
  const script = scripts.get(name);
  if (script === undefined) throw new Error(`no wire script named ${name}`);
  return script;
}

describe("the model provider conformance suite catches a broken adapter", () => {
  it("that retries on its own", async () => {
    await expect(
      checkHttpErrorScript(referenceHarness({ retriesInternally: true }), fixture("openai-compatible.chat-rate-limit-429")),
    ).rejects.toThrow(/exactly one HTTP attempt/);
  });

  it("that decodes a UTF-8 character split across chunks in pieces", async () => {
    await expect(
      checkSuccessScript(referenceHarness({ decodesChunksSeparately: true }), fixture("openai-compatible.chat-tool-call-split-stream")),
    ).rejects.toThrow(/replacement character/);
  });

  it("that maps the terminal reason wrongly", async () => {
    await expect(
      checkSuccessScript(referenceHarness({ ignoresFinishReason: true }), fixture("openai-compatible.chat-tool-call-split-stream")),
    ).rejects.toThrow(/terminal reason/);
  });

  it("that lets its own timeout escape as an AbortError", async () => {
    await expect(
      checkTimeoutScript(referenceHarness({ leaksTimeoutAsAbort: true }), fixture("openai-compatible.chat-stream-chunk-timeout")),
    ).rejects.toThrow(/ProviderCallError/);
  });

  it("that reports the caller's abort as a retryable failure", async () => {
    await expect(
      checkAbortMidStream(referenceHarness({ classifiesAbortAsTransport: true }), fixture("openai-compatible.chat-tool-call-split-stream")),
    ).rejects.toThrow(/signal's reason or an AbortError/);
  });

  it("whose request does not match the script", async () => {
    const strict = referenceHarness(undefined, { ignoredRequestMatchers: {} });
    await expect(checkHttpErrorScript(strict, fixture("openai-compatible.chat-rate-limit-429"))).rejects.toThrow(
      /body\.stream should equal false/,
    );
  });
});
