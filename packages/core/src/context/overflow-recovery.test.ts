import type { LlmRequest, ProviderFailure, TraceRecord } from "@lash/protocol";
import { ScriptedProvider, textStep, usage } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { InMemorySessionStore, isSummaryMessage, LashRuntime, type TurnActivity } from "../index.js";

const OVERFLOW: ProviderFailure = {
  kind: "validation",
  message: "prompt is too long: 210000 tokens > 200000 maximum",
  retryable: false,
  terminalReason: "context_overflow",
};

function texts(request: LlmRequest | undefined): string[] {
  return (request?.messages ?? []).flatMap((message) => message.blocks.flatMap((block) => (block.type === "text" ? [block.text] : [])));
}

async function sessionWithHistory(steps: ConstructorParameters<typeof ScriptedProvider>[0], options: { contextManager?: false } = {}) {
  const provider = new ScriptedProvider([textStep("Noted: blue."), textStep("Noted: a cat named Tom."), ...steps]);
  const records: TraceRecord[] = [];
  const builder = LashRuntime.builder()
    .withProvider(provider)
    .withStore(new InMemorySessionStore({ sessionId: "overflow" }))
    .withTraceSink({ record: (record) => void records.push(record) });
  if (options.contextManager === false) builder.withContextManager(false);
  const runtime = await builder.build();
  await runtime.runTurn("My favourite colour is blue.");
  await runtime.runTurn("I have a cat named Tom.");
  return { runtime, provider, records };
}

describe("overflow recovery", () => {
  it("a call refused with context_overflow is retried once after one compaction, and the turn finishes", async () => {
    const { runtime, provider, records } = await sessionWithHistory([
      { error: OVERFLOW },
      textStep("The user likes blue.", { usage: usage(300, 12) }),
      textStep("Your cat is Tom and your colour is blue.", { usage: usage(90, 11) }),
    ]);
    const activities: TurnActivity[] = [];
    const turn = await runtime.runTurn("What do you know about me?", {
      activities: { emit: (activity) => void activities.push(activity) },
    });

    expect(turn.outcome).toEqual({
      type: "finished",
      finish: { type: "assistant_message", text: "Your cat is Tom and your colour is blue." },
    });
    // The refused call, the summary, the retry.
    expect(provider.requests).toHaveLength(5);
    expect(texts(provider.requests[3])[0]).toMatch(/^You are compacting/);
    expect(texts(provider.requests[3]).join("\n")).toContain("My favourite colour is blue.");
    // The retry sends the summary in place of the first turn, and the newest turns as they were.
    const retry = texts(provider.requests[4]);
    expect(retry.some((text) => text.includes("The user likes blue."))).toBe(true);
    expect(retry).not.toContain("My favourite colour is blue.");
    expect(retry).toEqual(expect.arrayContaining(["I have a cat named Tom.", "What do you know about me?"]));

    expect(runtime.tokenLedger()).toEqual(
      expect.arrayContaining([
        {
          source: "compaction",
          model: "scripted-model",
          usage: { inputTokens: 300, outputTokens: 12, cachedInputTokens: 0, reasoningTokens: 0 },
        },
      ]),
    );
    const event = activities.find((activity) => activity.type === "plugin_event");
    expect(event).toMatchObject({
      pluginId: "lash.context",
      event: { kind: "custom", name: "history_compacted", payload: { reason: "overflow" } },
    });
    expect(isSummaryMessage(runtime.activeMessages()[0] ?? ({} as never))).toBe(true);
    // The compaction's model call is traced apart from the turn's own calls.
    const compactionCall = records.find((record) => record.type === "llm_call_completed" && record.callId.includes(":compaction:"));
    expect(compactionCall).toMatchObject({ usage: { inputTokens: 300, outputTokens: 12 } });
  });

  it("retries only once: a second overflow ends the turn as a provider error", async () => {
    const { runtime, provider } = await sessionWithHistory([{ error: OVERFLOW }, textStep("A summary."), { error: OVERFLOW }]);
    const turn = await runtime.runTurn("And now?");
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(provider.requests).toHaveLength(5);
  });

  it("a failed summary leaves the session as it was and the turn ends with the overflow", async () => {
    const { runtime, provider } = await sessionWithHistory([
      { error: OVERFLOW },
      { error: { ...OVERFLOW, message: "busy", terminalReason: "provider_error" } },
    ]);
    const before = runtime.activeMessages().map((message) => message.id);
    const turn = await runtime.runTurn("And now?");
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(provider.requests).toHaveLength(4);
    expect(
      runtime
        .activeMessages()
        .map((message) => message.id)
        .slice(0, before.length),
    ).toEqual(before);
    expect(runtime.tokenLedger().some((entry) => entry.source === "compaction")).toBe(false);
  });

  it("without a context manager the overflow ends the turn at once", async () => {
    const { runtime, provider } = await sessionWithHistory([{ error: OVERFLOW }], { contextManager: false });
    const turn = await runtime.runTurn("And now?");
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(provider.requests).toHaveLength(3);
  });
});
