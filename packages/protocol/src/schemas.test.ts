import { describe, expect, it } from "vitest";
import {
  assembledTurnSchema,
  llmResponseSchema,
  messageSchema,
  persistedSessionStateSchema,
  sessionCommitSchema,
  sessionEventSchema,
  terminationPolicySchema,
  tokenUsageSchema,
  turnActivitySchema,
  turnOutcomeSchema,
} from "./index.js";

describe("wire shapes", () => {
  it("parses a finished TurnOutcome with an assistant message", () => {
    const outcome = { type: "finished", finish: { type: "assistant_message", text: "x" } };
    expect(turnOutcomeSchema.parse(outcome)).toEqual(outcome);
  });

  it("parses handoff and stopped outcomes, including the budget stops", () => {
    expect(turnOutcomeSchema.parse({ type: "handoff", sessionId: "s2" })).toEqual({ type: "handoff", sessionId: "s2" });
    expect(turnOutcomeSchema.parse({ type: "stopped", stop: { type: "max_turns" } })).toEqual({
      type: "stopped",
      stop: { type: "max_turns" },
    });
    expect(turnOutcomeSchema.parse({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } }).type).toBe("stopped");
  });

  it("rejects an unknown outcome discriminator with its path", () => {
    const result = turnOutcomeSchema.safeParse({ type: "finished", finish: { type: "bogus", text: "x" } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["finish", "type"]);
  });

  it("rejects an unknown top-level discriminator with its path", () => {
    const result = turnOutcomeSchema.safeParse({ type: "paused" });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["type"]);
  });

  it("rejects an unknown budget with its path", () => {
    const result = turnOutcomeSchema.safeParse({ type: "stopped", stop: { type: "budget_exhausted", budget: "money" } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["stop", "budget"]);
  });

  it("rejects an unknown session event type and a bad nested field with their paths", () => {
    const unknown = sessionEventSchema.safeParse({ type: "nope" });
    expect(unknown.error?.issues[0]?.path).toEqual(["type"]);
    const badUsage = sessionEventSchema.safeParse({
      type: "usage",
      modeIteration: 0,
      usage: { inputTokens: "1", outputTokens: 0, cachedInputTokens: 0 },
      cumulative: { inputTokens: 1, outputTokens: 0, cachedInputTokens: 0 },
    });
    expect(badUsage.success).toBe(false);
    expect(badUsage.error?.issues[0]?.path).toEqual(["usage", "inputTokens"]);
  });

  it("parses a turn activity with the event fields flattened beside id and correlationId", () => {
    const activity = { id: "a1", correlationId: "c1", type: "text_delta", text: "hi" };
    expect(turnActivitySchema.parse(activity)).toEqual(activity);
    expect(turnActivitySchema.safeParse({ id: "a1", type: "text_delta", text: "hi" }).success).toBe(false);
  });

  it("rejects a message part with an unknown kind at its path", () => {
    const result = messageSchema.safeParse({ id: "m1", role: "user", parts: [{ kind: "video", id: "m1.p0", content: "" }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["parts", 0, "kind"]);
  });

  it("fills the defaults of a model response", () => {
    expect(llmResponseSchema.parse({})).toEqual({
      fullText: "",
      parts: [],
      usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 },
      terminalReason: "unknown",
    });
  });

  it("defaults reasoningTokens to 0 in a token usage", () => {
    expect(tokenUsageSchema.parse({ inputTokens: 1, outputTokens: 2, cachedInputTokens: 3 })).toEqual({
      inputTokens: 1,
      outputTokens: 2,
      cachedInputTokens: 3,
      reasoningTokens: 0,
    });
  });

  it("fills an assembled turn's list defaults", () => {
    const parsed = assembledTurnSchema.parse({
      state: {
        sessionId: "s",
        policy: { sessionId: "s", model: "m", maxContextTokens: 1000 },
        sessionGraph: { nodes: [] },
        turnIndex: 1,
        tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 },
      },
      outcome: { type: "finished", finish: { type: "assistant_message", text: "" } },
      assistantOutput: { safeText: "", rawText: "", state: "empty_output" },
      execution: { mode: "standard" },
      tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 },
    });
    expect(parsed.childrenUsage).toEqual([]);
    expect(parsed.toolCalls).toEqual([]);
    expect(parsed.errors).toEqual([]);
    expect(parsed.execution).toEqual({ mode: "standard", hadToolCalls: false, hadCodeExecution: false });
    expect(parsed.state.policy).toMatchObject({ providerId: "unconfigured", executionMode: "standard" });
  });

  it("rejects a persisted session state with another schema version", () => {
    const state = {
      schemaVersion: 2,
      sessionId: "s",
      policy: { sessionId: "s", model: "m", maxContextTokens: 1000 },
      sessionGraph: { nodes: [] },
      turnIndex: 0,
      tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 },
    };
    const result = persistedSessionStateSchema.safeParse(state);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["schemaVersion"]);
    expect(persistedSessionStateSchema.parse({ ...state, schemaVersion: 1 }).tokenLedger).toEqual([]);
  });

  it("rejects a commit whose graph delta has an unknown type", () => {
    const result = sessionCommitSchema.safeParse({
      sessionId: "s",
      commitId: "t:final",
      config: { providerId: "p", model: "m", contextWindow: 1000, executionMode: "standard" },
      graph: { type: "merge", nodes: [] },
      checkpoint: { schemaVersion: 1, turnState: { turnIndex: 0, tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 } } },
      usageDeltas: [],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["graph", "type"]);
  });
});

describe("terminationPolicySchema", () => {
  it("treats a missing done as failure by default, also when parsed from {}", () => {
    expect(terminationPolicySchema.parse({})).toEqual({ treatMissingDoneAsFailure: true });
  });

  it("keeps an explicit false", () => {
    expect(terminationPolicySchema.parse({ treatMissingDoneAsFailure: false }).treatMissingDoneAsFailure).toBe(false);
  });

  it("accepts positive integer limits and rejects zero, negatives and fractions with their path", () => {
    expect(terminationPolicySchema.parse({ maxModelCalls: 3, maxToolCalls: 5, maxTotalTokens: 1000, maxWallTimeMs: 60_000 })).toMatchObject(
      {
        maxModelCalls: 3,
        maxToolCalls: 5,
        maxTotalTokens: 1000,
        maxWallTimeMs: 60_000,
      },
    );
    for (const bad of [{ maxModelCalls: 0 }, { maxToolCalls: -1 }, { maxTotalTokens: 1.5 }]) {
      const result = terminationPolicySchema.safeParse(bad);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(Object.keys(bad));
    }
  });
});
