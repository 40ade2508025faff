import type { LlmRequest, Message } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { endsWithToolResults, isCompactionRequest, lastUserText, WindowedModel } from "../../test/context-models.js";
import { defineTool, InMemorySessionStore, isSummaryMessage, LashRuntime, type TurnActivity } from "../index.js";

const WINDOW = 16_000;
const TURNS = 300;

/** About 12 KB of listing, different at every call: past the 16k window's tool-output budget (8,000 bytes). */
function listing(turn: number): string {
  return Array.from(
    { length: 600 },
    (_, line) => `${String(turn).padStart(3, "0")}:${String(line).padStart(3, "0")} entry ${(turn * 7919 + line) % 1000} ok`,
  ).join("\n");
}

const dump = defineTool({
  name: "dump",
  description: "Prints the current listing.",
  inputSchema: { type: "object", properties: { turn: { type: "integer" } }, required: ["turn"] },
  execute: (input) => listing((input as { turn: number }).turn),
});

/** Every turn: the model asks for the listing, then answers; a compaction request gets a short summary. */
function answer(request: LlmRequest, call: number) {
  if (isCompactionRequest(request)) {
    return { fullText: `Summary ${call}: the user asked for the listing at every turn; each time it was printed and described.` };
  }
  if (endsWithToolResults(request)) return { fullText: `Listing read (call ${call}): nothing unusual, all entries ok.` };
  const turn = Number(/Turn (\d+)/.exec(lastUserText(request))?.[1] ?? "0");
  return { parts: [{ type: "tool_call" as const, callId: `call-${call}`, toolName: "dump", inputJson: JSON.stringify({ turn }) }] };
}

function text(message: Message): string {
  return message.parts.flatMap((part) => ("content" in part ? [part.content] : [])).join("");
}

describe("a long session on a small context window", () => {
  it(`runs ${TURNS} turns with large tool outputs on a 16k-token window and never ends in context_overflow`, {
    timeout: 120_000,
  }, async () => {
    const model = new WindowedModel(WINDOW, answer);
    const runtime = await LashRuntime.builder()
      .withProvider(model)
      .withPolicy({ maxContextTokens: WINDOW })
      .withTools([dump])
      .withStore(new InMemorySessionStore({ sessionId: "long" }))
      .build();
    const outcomes = new Map<string, number>();
    const compactions: unknown[] = [];
    for (let turn = 1; turn <= TURNS; turn += 1) {
      const activities: TurnActivity[] = [];
      const result = await runtime.runTurn(`Turn ${turn}: print the listing and tell me whether anything changed since last time.`, {
        activities: { emit: (activity) => void activities.push(activity) },
      });
      const key = result.outcome.type === "stopped" ? `stopped:${result.outcome.stop.type}` : result.outcome.type;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      for (const activity of activities)
        if (activity.type === "plugin_event" && activity.event.kind === "custom") compactions.push(activity.event.payload);
    }

    expect(Object.fromEntries(outcomes)).toEqual({ finished: TURNS });
    // Prevention, not only recovery: the model never had to refuse a prompt.
    expect(model.overflows).toBe(0);
    expect(model.largestPrompt).toBeLessThanOrEqual(WINDOW);
    expect(model.prunedOpenResults).toBe(0);

    // The tool outputs were cut to the budget, old ones pruned in later prompts, and history summarized.
    const turnRequests = model.requests.filter((request) => !isCompactionRequest(request));
    const results = turnRequests
      .flatMap((request) => request.messages.flatMap((message) => message.blocks))
      .filter((block) => block.type === "tool_result");
    expect(results.some((block) => block.content.includes("[... output cut:"))).toBe(true);
    expect(results.some((block) => block.content.startsWith("[tool output pruned"))).toBe(true);
    expect(compactions.length).toBeGreaterThan(0);
    expect(compactions.every((payload) => (payload as { reason: string }).reason === "threshold")).toBe(true);

    // The ledger counts the summaries apart from the turns.
    const ledger = runtime.tokenLedger();
    const compactionRow = ledger.find((entry) => entry.source === "compaction");
    expect(compactionRow?.usage.inputTokens).toBeGreaterThan(0);
    expect(ledger.find((entry) => entry.source === "turn")?.usage.inputTokens).toBeGreaterThan(0);

    // The active path is a summary and the newest turns; the first turn is still in the graph, off the path.
    const active = runtime.activeMessages();
    expect(isSummaryMessage(active[0] as Message)).toBe(true);
    // Bounded by the window, not by the session's length (1,200 messages were written).
    expect(active.length).toBeLessThan(100);
    const first = runtime
      .exportState()
      .sessionGraph.nodes.find((node) => node.payload.kind === "message" && node.payload.message.role === "user");
    expect(first).toBeDefined();
    const historic = await runtime.getHistoricNode(first?.nodeId ?? "");
    expect(historic?.payload.kind === "message" ? text(historic.payload.message) : "").toContain("Turn 1:");
    expect(runtime.exportState().turnIndex).toBe(TURNS);
  });

  it("the same session without context management ends in context_overflow within a few turns", async () => {
    const model = new WindowedModel(WINDOW, answer);
    const runtime = await LashRuntime.builder()
      .withProvider(model)
      .withPolicy({ maxContextTokens: WINDOW })
      .withTools([dump])
      .withContextManager(false)
      .withToolOutputBudget(false)
      .build();
    let stoppedAt: number | undefined;
    for (let turn = 1; turn <= 20 && stoppedAt === undefined; turn += 1) {
      const result = await runtime.runTurn(`Turn ${turn}: print the listing and tell me whether anything changed since last time.`);
      if (result.outcome.type === "stopped") stoppedAt = turn;
    }
    expect(stoppedAt).toBeLessThanOrEqual(5);
    expect(model.overflows).toBe(1);
  });

  it("one turn of 40 tool calls compacts in the middle and goes on from the summary", async () => {
    const model = new WindowedModel(WINDOW, (request, call) => {
      if (isCompactionRequest(request)) return { fullText: `Summary ${call}: listings 1 to ${call} were printed.` };
      const done = request.messages.flatMap((message) => message.blocks).filter((block) => block.type === "tool_result").length;
      if (call > 40 && endsWithToolResults(request)) return { fullText: "All listings printed." };
      return {
        parts: [{ type: "tool_call" as const, callId: `call-${call}`, toolName: "dump", inputJson: JSON.stringify({ turn: done }) }],
      };
    });
    const store = new InMemorySessionStore({ sessionId: "one-turn" });
    const runtime = await LashRuntime.builder()
      .withProvider(model)
      .withPolicy({ maxContextTokens: WINDOW })
      .withTools([dump])
      .withStore(store)
      .build();
    const result = await runtime.runTurn("Print the listing forty times.");
    expect(result.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "All listings printed." } });
    expect(model.overflows).toBe(0);
    expect(model.prunedOpenResults).toBe(0);
    const active = runtime.activeMessages();
    expect(isSummaryMessage(active[0] as Message)).toBe(true);
    expect(text(active.at(-1) as Message)).toBe("All listings printed.");
    // The stored session reads the same: the summary, then the rest of the turn.
    const stored = await store.loadSession({ type: "active_path" });
    const storedMessages = (stored?.graph.nodes ?? []).flatMap((node) =>
      node.payload.kind === "message" ? [node.payload.message.id] : [],
    );
    expect(storedMessages).toEqual(active.map((message) => message.id));
  });
});
