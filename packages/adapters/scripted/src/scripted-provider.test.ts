import { type LlmRequest, type LlmResponse, type LlmStreamEvent, type LlmStreamPart, ProviderCallError } from "@lash/protocol";
import { describe, expect, it, vi } from "vitest";
import { ScriptedProvider, type ScriptedStep, UnconsumedScriptError, UnexpectedModelCallError } from "./scripted-provider.js";

function request(text: string): LlmRequest {
  return {
    model: "scripted-model",
    messages: [
      { role: "system", blocks: [{ type: "text", text: "be brief" }] },
      { role: "user", blocks: [{ type: "text", text }] },
    ],
    attachments: [],
    tools: [],
    toolChoice: "auto",
  };
}

interface CallResult {
  readonly events: LlmStreamEvent[];
  readonly response: LlmResponse;
}

/** One call in `complete` mode, collecting what was emitted. */
async function complete(provider: ScriptedProvider, input: LlmRequest, signal = new AbortController().signal): Promise<CallResult> {
  const events: LlmStreamEvent[] = [];
  const response = await provider.doComplete!(input, { signal, emit: (event) => void events.push(event) });
  return { events, response };
}

/** One call in `stream` mode, collecting every item the iterable yields. */
async function stream(provider: ScriptedProvider, input: LlmRequest, signal = new AbortController().signal): Promise<LlmStreamPart[]> {
  const parts: LlmStreamPart[] = [];
  for await (const part of provider.doStream!(input, { signal })) parts.push(part);
  return parts;
}

const ZERO_USAGE = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };

const twoDeltas: ScriptedStep = {
  events: [
    { type: "delta", text: "Hel" },
    { type: "delta", text: "lo" },
  ],
  response: {
    fullText: "Hello",
    parts: [{ type: "text", text: "Hello" }],
    usage: { inputTokens: 7, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 },
  },
};

describe("ScriptedProvider in complete mode", () => {
  it("implements only doComplete and identifies itself", () => {
    const provider = new ScriptedProvider([], { providerId: "mock", defaultModel: "mock-model", inputUsageExcludesCachedTokens: true });
    expect(typeof provider.doComplete).toBe("function");
    expect("doStream" in provider).toBe(false);
    expect(provider.specificationVersion).toBe("lash.provider.v1");
    expect(provider).toMatchObject({ providerId: "mock", defaultModel: "mock-model", inputUsageExcludesCachedTokens: true });
  });

  it("emits the step's events in order, then returns its response", async () => {
    const provider = new ScriptedProvider([twoDeltas]);
    const { events, response } = await complete(provider, request("hi"));
    expect(events).toEqual([
      { type: "delta", text: "Hel" },
      { type: "delta", text: "lo" },
    ]);
    expect(response).toEqual({
      fullText: "Hello",
      parts: [{ type: "text", text: "Hello" }],
      usage: { inputTokens: 7, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 },
      terminalReason: "stop",
    });
  });

  it("fills the fields a step leaves out", async () => {
    const provider = new ScriptedProvider([
      {},
      { response: { usage: { inputTokens: 3 } as LlmResponse["usage"], terminalDiagnostic: "why" } },
    ]);
    expect((await complete(provider, request("a"))).response).toEqual({
      fullText: "",
      parts: [],
      usage: ZERO_USAGE,
      terminalReason: "stop",
    });
    expect((await complete(provider, request("b"))).response).toEqual({
      fullText: "",
      parts: [],
      usage: { ...ZERO_USAGE, inputTokens: 3 },
      terminalReason: "stop",
      terminalDiagnostic: "why",
    });
  });

  it("waits for a promise returned by emit before the next event", async () => {
    const provider = new ScriptedProvider([twoDeltas]);
    const seen: string[] = [];
    let release: () => void = () => {};
    const call = provider.doComplete!(request("hi"), {
      signal: new AbortController().signal,
      emit: (event) => {
        seen.push(event.type === "delta" ? event.text : event.type);
        if (seen.length === 1) return new Promise<void>((resolve) => (release = resolve));
        return undefined;
      },
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(seen).toEqual(["Hel"]);
    release();
    await call;
    expect(seen).toEqual(["Hel", "lo"]);
  });

  it("returns a fresh response each time, so a caller's changes do not leak into later calls", async () => {
    const provider = new ScriptedProvider([twoDeltas], { repeat: true });
    const first = await complete(provider, request("a"));
    first.response.parts.push({ type: "text", text: "extra" });
    first.response.usage.inputTokens = 999;
    const second = await complete(provider, request("b"));
    expect(second.response.parts).toEqual([{ type: "text", text: "Hello" }]);
    expect(second.response.usage.inputTokens).toBe(7);
  });
});

describe("ScriptedProvider in stream mode", () => {
  it("implements only doStream, yielding the events and then the response", async () => {
    const provider = new ScriptedProvider([twoDeltas], { mode: "stream" });
    expect(typeof provider.doStream).toBe("function");
    expect("doComplete" in provider).toBe(false);
    expect(await stream(provider, request("hi"))).toEqual([
      { type: "delta", text: "Hel" },
      { type: "delta", text: "lo" },
      {
        type: "response",
        response: {
          fullText: "Hello",
          parts: [{ type: "text", text: "Hello" }],
          usage: { inputTokens: 7, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 },
          terminalReason: "stop",
        },
      },
    ]);
  });

  it("throws a step's failure after its events", async () => {
    const provider = new ScriptedProvider(
      [{ events: [{ type: "delta", text: "par" }], error: { message: "stream dropped", kind: "stream" } }],
      { mode: "stream" },
    );
    const parts: LlmStreamPart[] = [];
    const failure = await (async () => {
      for await (const part of provider.doStream!(request("hi"), { signal: new AbortController().signal })) parts.push(part);
    })().catch((error: unknown) => error);
    expect(parts).toEqual([{ type: "delta", text: "par" }]);
    expect(ProviderCallError.isInstance(failure)).toBe(true);
    expect((failure as ProviderCallError).failure).toMatchObject({ kind: "stream", message: "stream dropped", retryable: false });
  });

  it("takes the call when doStream is called, and reports an unexpected call on iteration", async () => {
    const provider = new ScriptedProvider([], { mode: "stream" });
    const iterable = provider.doStream!(request("one more"), { signal: new AbortController().signal });
    expect(provider.callCount).toBe(1);
    expect(provider.unexpectedCalls).toHaveLength(1);
    await expect(stream(provider, request("again"))).rejects.toBeInstanceOf(UnexpectedModelCallError);
    await expect(iterable[Symbol.asyncIterator]().next()).rejects.toThrow(/unexpected model call #1/);
  });
});

describe("request recording", () => {
  it("keeps a copy of every request, unaffected by later changes to it", async () => {
    const provider = new ScriptedProvider([{}, {}]);
    const first = request("first");
    await complete(provider, first);
    const firstBlock = first.messages[1]!.blocks[0]!;
    if (firstBlock.type === "text") firstBlock.text = "changed";
    first.messages.push({ role: "assistant", blocks: [{ type: "text", text: "later" }] });
    await complete(provider, request("second"));

    expect(provider.callCount).toBe(2);
    expect(provider.requests).toHaveLength(2);
    expect(provider.requests[0]).toEqual(request("first"));
    expect(provider.requests[1]).toEqual(request("second"));
  });

  it("records nothing when recordRequests is false", async () => {
    const provider = new ScriptedProvider([{}], { recordRequests: false });
    await complete(provider, request("hi"));
    expect(provider.callCount).toBe(1);
    expect(provider.requests).toEqual([]);
  });

  it("runs a step's expect callback on the request, and keeps what it threw", async () => {
    const seen: string[] = [];
    const provider = new ScriptedProvider([
      { expect: (input) => void seen.push(input.model) },
      {
        expect: () => {
          throw new Error("wrong request");
        },
      },
    ]);
    await complete(provider, request("a"));
    expect(seen).toEqual(["scripted-model"]);
    await expect(complete(provider, request("b"))).rejects.toThrow("wrong request");
    expect(provider.failedExpectations).toEqual([new Error("wrong request")]);
  });
});

describe("an unexpected call", () => {
  it("throws UnexpectedModelCallError naming the call and the last user text, and records it", async () => {
    const provider = new ScriptedProvider([{}]);
    await complete(provider, request("first"));
    const input = request("ignored");
    input.messages.push(
      { role: "assistant", blocks: [{ type: "text", text: "ok" }] },
      { role: "user", blocks: [{ type: "text", text: "and now?" }] },
    );

    const error = await complete(provider, input).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UnexpectedModelCallError);
    expect((error as Error).message).toBe('unexpected model call #2: the script has 1 step and all were used (last user text: "and now?")');
    expect(provider.unexpectedCalls).toEqual([error]);
    expect(provider.unexpectedCalls[0]).toMatchObject({ callNumber: 2, scriptLength: 1, lastUserText: "and now?" });
    expect(provider.callCount).toBe(2);
    expect(provider.requests).toHaveLength(2);
  });

  it("skips tool-result-only user messages when looking for the last user text", async () => {
    const provider = new ScriptedProvider([]);
    const input = request("what is 2 + 3?");
    input.messages.push(
      { role: "assistant", blocks: [{ type: "tool_call", callId: "c1", toolName: "add", inputJson: "{}" }] },
      { role: "user", blocks: [{ type: "tool_result", callId: "c1", content: "5" }] },
    );
    await expect(complete(provider, input)).rejects.toThrow('(last user text: "what is 2 + 3?")');
  });
});

describe("assertAllConsumed", () => {
  it("throws UnconsumedScriptError with the number of steps left, and passes once all were played", async () => {
    const provider = new ScriptedProvider([{}, {}, {}]);
    await complete(provider, request("a"));
    expect(provider.remainingSteps).toBe(2);
    expect(() => provider.assertAllConsumed()).toThrow(UnconsumedScriptError);
    expect(() => provider.assertAllConsumed()).toThrow("2 of 3 scripted model calls never happened");

    await complete(provider, request("b"));
    await complete(provider, request("c"));
    expect(provider.remainingSteps).toBe(0);
    expect(() => provider.assertAllConsumed()).not.toThrow();
  });
});

describe("error steps", () => {
  it("classifies failure details: status 500 is a retryable http failure, thrown after the events", async () => {
    const provider = new ScriptedProvider([
      { events: [{ type: "delta", text: "partial" }], error: { message: "upstream exploded", status: 500 } },
    ]);
    const events: LlmStreamEvent[] = [];
    const error = await provider.doComplete!(request("hi"), {
      signal: new AbortController().signal,
      emit: (event) => void events.push(event),
    }).catch((thrown: unknown) => thrown);
    expect(events).toEqual([{ type: "delta", text: "partial" }]);
    expect(ProviderCallError.isInstance(error)).toBe(true);
    expect((error as ProviderCallError).code).toBe("provider_failure");
    expect((error as ProviderCallError).failure).toEqual({
      kind: "http",
      message: "upstream exploded",
      retryable: true,
      status: 500,
      terminalReason: "provider_error",
    });
  });

  it("classifies 401 as a non-retryable auth failure", async () => {
    const provider = new ScriptedProvider([{ error: { message: "bad key", status: 401 } }]);
    const error = await complete(provider, request("hi")).catch((thrown: unknown) => thrown);
    expect((error as ProviderCallError).failure).toMatchObject({ kind: "auth", retryable: false, status: 401 });
  });

  it("throws an already classified failure unchanged", async () => {
    const failure = {
      kind: "quota" as const,
      message: "slow down",
      retryable: true,
      terminalReason: "provider_error" as const,
      retryAfterMs: 1500,
    };
    const provider = new ScriptedProvider([{ error: failure }]);
    const error = await complete(provider, request("hi")).catch((thrown: unknown) => thrown);
    expect((error as ProviderCallError).failure).toEqual(failure);
  });

  it("throws a plain Error as is, like a buggy provider", async () => {
    const bug = new TypeError("cannot read properties of undefined");
    const provider = new ScriptedProvider([{ error: bug }]);
    await expect(complete(provider, request("hi"))).rejects.toBe(bug);
  });
});

describe("delays and abort", () => {
  it("uses no timer when the step has no delay", async () => {
    vi.useFakeTimers();
    try {
      const provider = new ScriptedProvider([twoDeltas]);
      const call = complete(provider, request("hi"));
      expect(vi.getTimerCount()).toBe(0);
      expect((await call).response.fullText).toBe("Hello");
    } finally {
      vi.useRealTimers();
    }
  });

  it("waits delayMs before streaming, on the (fake) clock", async () => {
    vi.useFakeTimers();
    try {
      const provider = new ScriptedProvider([{ ...twoDeltas, delayMs: 1_000 }]);
      const events: LlmStreamEvent[] = [];
      let settled = false;
      const call = provider.doComplete!(request("hi"), {
        signal: new AbortController().signal,
        emit: (event) => void events.push(event),
      }).then(() => {
        settled = true;
      });
      await vi.advanceTimersByTimeAsync(999);
      expect(events).toEqual([]);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await call;
      expect(events).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("stops promptly with an AbortError when the signal aborts during a sleep", async () => {
    vi.useFakeTimers();
    try {
      const provider = new ScriptedProvider([
        {
          events: [
            { type: "delta", text: "before" },
            { type: "sleep", ms: 10_000 },
            { type: "delta", text: "after" },
          ],
          response: { fullText: "before after" },
        },
      ]);
      const controller = new AbortController();
      const events: LlmStreamEvent[] = [];
      const call = provider.doComplete!(request("hi"), { signal: controller.signal, emit: (event) => void events.push(event) });
      const outcome = call.catch((thrown: unknown) => thrown);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(events).toEqual([{ type: "delta", text: "before" }]);

      controller.abort();
      const error = await outcome;
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe("AbortError");
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(events).toEqual([{ type: "delta", text: "before" }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("stops between events in stream mode when the signal aborts", async () => {
    const provider = new ScriptedProvider([twoDeltas], { mode: "stream" });
    const controller = new AbortController();
    const seen: LlmStreamPart[] = [];
    const error = await (async () => {
      for await (const part of provider.doStream!(request("hi"), { signal: controller.signal })) {
        seen.push(part);
        controller.abort();
      }
    })().catch((thrown: unknown) => thrown);
    expect(seen).toEqual([{ type: "delta", text: "Hel" }]);
    expect((error as Error).name).toBe("AbortError");
  });

  it("throws at once when the signal is already aborted, without using a step", async () => {
    const provider = new ScriptedProvider([twoDeltas]);
    const controller = new AbortController();
    controller.abort();
    const emit = vi.fn();
    await expect(provider.doComplete!(request("hi"), { signal: controller.signal, emit })).rejects.toMatchObject({ name: "AbortError" });
    expect(emit).not.toHaveBeenCalled();
    expect(provider.callCount).toBe(1);
    expect(provider.remainingSteps).toBe(1);
    expect((await complete(provider, request("again"))).response.fullText).toBe("Hello");
  });
});

describe("repeat mode", () => {
  it("replays the script from the start when it runs out", async () => {
    const provider = new ScriptedProvider([{ response: { fullText: "one" } }, { response: { fullText: "two" } }], { repeat: true });
    const texts: string[] = [];
    for (let index = 0; index < 5; index += 1) texts.push((await complete(provider, request(`call ${index}`))).response.fullText);
    expect(texts).toEqual(["one", "two", "one", "two", "one"]);
    expect(provider.callCount).toBe(5);
    expect(provider.unexpectedCalls).toEqual([]);
    expect(provider.remainingSteps).toBe(1);
    expect(() => provider.assertAllConsumed()).toThrow(UnconsumedScriptError);
    await complete(provider, request("last"));
    expect(() => provider.assertAllConsumed()).not.toThrow();
  });

  it("still fails every call when the script is empty", async () => {
    const provider = new ScriptedProvider([], { repeat: true });
    await expect(complete(provider, request("hi"))).rejects.toBeInstanceOf(UnexpectedModelCallError);
  });
});
