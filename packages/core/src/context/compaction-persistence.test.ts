import type { LlmRequest, Message } from "@lash/protocol";
import { textStep, toolCallStep, usage } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { environmentFixture, expectLashError, failureOf, runtimeOn, scriptedProvider } from "../../test/persistence-helpers.js";
import { defineTool, isSummaryMessage, LashRuntime, type Residency } from "../index.js";

function texts(request: LlmRequest | undefined): string[] {
  return (request?.messages ?? []).flatMap((message) => message.blocks.flatMap((block) => (block.type === "text" ? [block.text] : [])));
}

function messageText(message: Message | undefined): string {
  return (message?.parts ?? []).flatMap((part) => ("content" in part ? [part.content] : [])).join("");
}

const FACTS = ["My colour is blue.", "My cat is Tom.", "I live in Oslo."];

describe.each<Residency>(["keep_all", "active_path_only"])("a compaction summary (%s)", (residency) => {
  it("survives park and resume; the summarized messages stay readable as historic nodes", async () => {
    const provider = scriptedProvider([
      ...FACTS.map(() => textStep("Noted.")),
      textStep("Colour blue; cat Tom.", { usage: usage(200, 9) }),
      textStep("You live in Oslo, your cat is Tom and your colour is blue."),
    ]);
    const { environment, database } = environmentFixture({ residency, provider });
    const runtime = await runtimeOn(environment, "facts", database.openSession("facts"));
    for (const fact of FACTS) await runtime.runTurn(fact);
    const firstUser = runtime.activeMessages()[0] as Message;

    const compacted = await runtime.compact({ keepRecentTokens: 10 });
    expect(compacted).toMatchObject({
      type: "compacted",
      summarizedMessages: 4,
      keptMessages: 2,
      usage: { inputTokens: 200, outputTokens: 9 },
    });
    const active = runtime.activeMessages();
    expect(active.map((message) => messageText(message))).toEqual([
      expect.stringContaining("Colour blue; cat Tom."),
      "I live in Oslo.",
      "Noted.",
    ]);
    expect(isSummaryMessage(active[0] as Message)).toBe(true);
    expect(runtime.tokenLedger().find((entry) => entry.source === "compaction")?.usage.inputTokens).toBe(200);

    const resumed = await LashRuntime.resume(await runtime.park(), environment);
    expect(resumed.activeMessages().map((message) => message.id)).toEqual(active.map((message) => message.id));
    const historic = await resumed.getHistoricNode(firstUser.id);
    expect(historic?.payload.kind === "message" ? messageText(historic.payload.message) : undefined).toBe(FACTS[0]);
    expect(resumed.tokenLedger().find((entry) => entry.source === "compaction")?.usage.outputTokens).toBe(9);

    // The next prompt is the summary and the newest turn, not the summarized ones.
    await resumed.runTurn("What do you know about me?");
    const sent = texts(provider.requests.at(-1));
    expect(sent.some((text) => text.includes("Colour blue; cat Tom."))).toBe(true);
    expect(sent).not.toContain(FACTS[0]);
    expect(sent).toEqual(expect.arrayContaining(["I live in Oslo.", "What do you know about me?"]));
  });
});

describe("runtime.compact()", () => {
  it("reports nothing to compact on an empty session, and a failed summary as a value", async () => {
    const provider = scriptedProvider([
      textStep("Noted."),
      { error: { kind: "http", message: "down", retryable: false, terminalReason: "provider_error" } },
    ]);
    const { environment, database } = environmentFixture({ provider });
    const runtime = await runtimeOn(environment, "s", database.openSession("s"));
    expect(await runtime.compact()).toEqual({ type: "skipped", reason: "nothing_to_compact" });
    await runtime.runTurn("Hello.");
    const before = runtime.activeMessages().map((message) => message.id);
    expect(await runtime.compact()).toMatchObject({ type: "failed", message: "down" });
    expect(runtime.activeMessages().map((message) => message.id)).toEqual(before);
  });

  it("refuses while a turn waits for approval", async () => {
    const deploy = defineTool({
      name: "deploy",
      description: "Deploys.",
      inputSchema: { type: "object" },
      needsApproval: true,
      execute: () => "ok",
    });
    const provider = scriptedProvider([toolCallStep([{ callId: "call-1", name: "deploy", args: {} }])]);
    const { environment, database } = environmentFixture({ provider, tools: [deploy] });
    const runtime = await runtimeOn(environment, "s", database.openSession("s"));
    await runtime.runTurn("Deploy.");
    expectLashError(await failureOf(() => runtime.compact()), "turn_awaiting_approval");
  });
});

describe("window shrink on a model change", () => {
  it("a smaller model's window applies to the next turn's prompt", async () => {
    const big = "y".repeat(100_000); // 25,000 tokens per result
    const read = defineTool({ name: "read", description: "Reads.", inputSchema: { type: "object" }, execute: () => big });
    const steps = [1, 2, 3, 4, 5].flatMap((index) => [
      toolCallStep([{ callId: `c${index}`, name: "read", args: {} }]),
      textStep(`read ${index}`),
    ]);
    const provider = scriptedProvider(steps);
    const runtime = await LashRuntime.builder()
      .withProvider(provider)
      .withPolicy({ model: "local-model", maxContextTokens: 1_000_000 })
      .withTools([read])
      .withToolOutputBudget(false)
      .build();
    for (const index of [1, 2, 3, 4]) await runtime.runTurn(`Read ${index}.`);
    const unpruned = (request: LlmRequest | undefined) =>
      (request?.messages ?? [])
        .flatMap((message) => message.blocks)
        .filter((block) => block.type === "tool_result" && block.content === big).length;
    expect(unpruned(provider.requests.at(-1))).toBe(4);

    await runtime.setModel("gpt-4o");
    expect(runtime.policy.maxContextTokens).toBe(128_000);
    await runtime.setModel("gpt-5");
    expect(runtime.policy.maxContextTokens).toBe(128_000); // a bigger window is not taken on a guess
    await runtime.updateSessionConfig({ model: "gpt-4o", maxContextTokens: 120_000 });
    expect(runtime.policy.maxContextTokens).toBe(120_000); // a window the update names wins

    await runtime.runTurn("Read 5.");
    const first = provider.requests.at(-2);
    expect(first?.model).toBe("gpt-4o");
    // Fitted to the 120,000-token window: the oldest outputs went, the last two turns' stayed.
    expect(unpruned(first)).toBe(2);
    expect(texts(first).length).toBeGreaterThan(0);
  });
});
