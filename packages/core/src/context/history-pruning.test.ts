import type { Message, MessagePart } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { rollingHistory } from "../index.js";
import { pruneHistory } from "./history-pruning.js";
import { rollingHistorySettings } from "./rolling-history.js";
import { estimateMessagesTokens } from "./token-estimate.js";

/** A message part before it has an id (`Omit` over each member of the union). */
type PartInput = MessagePart extends infer Part ? (Part extends MessagePart ? Omit<Part, "id"> : never) : never;

let counter = 0;
function message(role: Message["role"], parts: PartInput[]): Message {
  counter += 1;
  const id = `m${counter}`;
  return { id, role, parts: parts.map((part, index) => ({ ...part, id: `${id}.p${index}` }) as MessagePart) };
}

const BIG = "x".repeat(8_000); // 2,000 tokens

/** One user turn: the prompt, a tool call, its (big) result, the answer. */
function turn(index: number, output = BIG): Message[] {
  return [
    message("user", [{ kind: "text", content: `turn ${index}` }]),
    message("assistant", [{ kind: "tool_call", callId: `c${index}`, toolName: "read", inputJson: "{}" }]),
    message("user", [{ kind: "tool_result", callId: `c${index}`, toolName: "read", content: output }]),
    message("assistant", [{ kind: "prose", content: `done ${index}` }]),
  ];
}

function resultOf(messages: readonly Message[], callId: string): string | undefined {
  for (const entry of messages) {
    for (const part of entry.parts) if (part.kind === "tool_result" && part.callId === callId) return part.content;
  }
  return undefined;
}

const settings = { protectRecentTokens: 1_000, protectUserTurns: 2, minimumPruneTokens: 1_000 };

describe("pruning old tool outputs", () => {
  it("prunes old tool outputs, never the last 2 user turns", () => {
    const history = [...turn(1), ...turn(2), ...turn(3), ...turn(4)];
    const pruned = pruneHistory(history, settings, Number.POSITIVE_INFINITY);
    expect(resultOf(pruned.messages, "c1")).toMatch(/^\[tool output pruned to save context: 8000 characters from `read`/);
    expect(resultOf(pruned.messages, "c2")).toMatch(/^\[tool output pruned/);
    expect(resultOf(pruned.messages, "c3")).toBe(BIG);
    expect(resultOf(pruned.messages, "c4")).toBe(BIG);
    // The view keeps every message and id; the input is untouched.
    expect(pruned.messages.map((entry) => entry.id)).toEqual(history.map((entry) => entry.id));
    expect(resultOf(history, "c1")).toBe(BIG);
    expect(pruned.savedTokens).toBeGreaterThan(3_900);
  });

  it("never prunes the results of the open batch, whatever their size", () => {
    const history = [...turn(1), ...turn(2), ...turn(3)];
    const open = [
      message("assistant", [
        { kind: "tool_call", callId: "open-1", toolName: "read", inputJson: "{}" },
        { kind: "tool_call", callId: "open-2", toolName: "read", inputJson: "{}" },
      ]),
      message("user", [
        { kind: "tool_result", callId: "open-1", toolName: "read", content: BIG.repeat(4) },
        { kind: "tool_result", callId: "open-2", toolName: "read", content: BIG.repeat(4) },
      ]),
    ];
    // No user-turn protection and no recent-token protection: only the open batch is protected.
    const pruned = pruneHistory(
      [...history, ...open],
      { protectRecentTokens: 0, protectUserTurns: 0, minimumPruneTokens: 1 },
      Number.POSITIVE_INFINITY,
    );
    expect(resultOf(pruned.messages, "open-1")).toBe(BIG.repeat(4));
    expect(resultOf(pruned.messages, "open-2")).toBe(BIG.repeat(4));
    expect(resultOf(pruned.messages, "c3")).toMatch(/^\[tool output pruned/);
  });

  it("protects the newest tokens", () => {
    const history = [...turn(1), ...turn(2), ...turn(3), ...turn(4)];
    const pruned = pruneHistory(history, { ...settings, protectUserTurns: 0, protectRecentTokens: 4_000 }, Number.POSITIVE_INFINITY);
    expect(resultOf(pruned.messages, "c2")).toMatch(/^\[tool output pruned/);
    expect(resultOf(pruned.messages, "c3")).toBe(BIG);
  });

  it("prunes nothing unless at least the minimum can be freed, then in steps of it", () => {
    const history = [...turn(1), ...turn(2), ...turn(3), ...turn(4), ...turn(5)];
    expect(pruneHistory(history, { ...settings, minimumPruneTokens: 10_000 }, 1).savedTokens).toBe(0);
    // Three outputs can go (about 1,975 tokens each); in steps of 3,000 two of them make the step.
    const stepped = pruneHistory(history, { ...settings, minimumPruneTokens: 3_000 }, 1);
    expect(stepped.prunedMessages).toBe(2);
    // Unless more is needed to fit: then everything prunable goes.
    expect(pruneHistory(history, { ...settings, minimumPruneTokens: 3_000 }, 5_500).prunedMessages).toBe(3);
  });

  it("replaces old images with a note and keeps the read hint of a cut output", () => {
    const image = message("user", [
      { kind: "text", content: "look" },
      { kind: "image", attachment: { id: "a".repeat(64), mediaType: "image/png", byteLength: 1234 } },
    ]);
    const cut = `head\n[... output cut: 10 of 20 lines. Read the rest with read_tool_output({"id":"call:c1","offset":3}) ...]\n${BIG}`;
    const history = [image, message("assistant", [{ kind: "prose", content: "a cat" }]), ...turn(1, cut), ...turn(2), ...turn(3)];
    const pruned = pruneHistory(history, settings, Number.POSITIVE_INFINITY);
    expect(pruned.messages[0]?.parts[1]).toEqual({
      kind: "text",
      id: `${image.id}.p1`,
      content: "[image omitted to save context: image/png, 1234 bytes]",
    });
    expect(resultOf(pruned.messages, "c1")).toContain('read_tool_output({"id":"call:c1"}) still reads the full output.');
  });
});

describe("rollingHistory", () => {
  it("scales its defaults to small windows", () => {
    expect(rollingHistorySettings({}, 16_000)).toMatchObject({
      thresholdTokens: 9_600,
      protectRecentTokens: 4_000,
      protectUserTurns: 2,
      minimumPruneTokens: 2_000,
      compaction: { keepRecentTokens: 4_000, summaryTokens: 1_600, minimumSummarizedTokens: 1_600 },
    });
    expect(rollingHistorySettings({}, 200_000)).toMatchObject({
      thresholdTokens: 120_000,
      protectRecentTokens: 40_000,
      minimumPruneTokens: 20_000,
      compaction: { keepRecentTokens: 20_000, summaryTokens: 4_000, minimumSummarizedTokens: 10_000 },
    });
    expect(rollingHistorySettings({ compaction: false }, 16_000).compaction).toBeUndefined();
  });

  it("sends the messages as they are under the threshold, prunes past it, asks for a compaction when pruning is not enough", () => {
    const manager = rollingHistory();
    const small = [...turn(1, "short")];
    const request = { sessionId: "s", maxContextTokens: 16_000, fixedTokens: 500, calibration: 1 };
    expect(manager.fitModelCall({ ...request, messages: small })).toEqual({
      messages: small,
      promptTokens: 500 + estimateMessagesTokens(small),
      compact: false,
    });

    const prunable = [...turn(1), ...turn(2), ...turn(3), ...turn(4), ...turn(5)];
    const fitted = manager.fitModelCall({ ...request, messages: prunable });
    expect(fitted.compact).toBe(false);
    expect(fitted.promptTokens).toBeLessThanOrEqual(9_600);
    expect(resultOf(fitted.messages, "c1")).toMatch(/^\[tool output pruned/);

    // The newest two turns alone are past the threshold: only a summary can help (and none of them is pruned).
    const recent = [...turn(1, BIG.repeat(3)), ...turn(2, BIG.repeat(3))];
    const over = manager.fitModelCall({ ...request, messages: recent });
    expect(over.compact).toBe(true);
    expect(over.messages).toBe(recent);

    // The provider counts more than the estimate: the calibration makes the same prompt cross the threshold.
    const calibrated = manager.fitModelCall({ ...request, messages: small, calibration: 30 });
    expect(calibrated.promptTokens).toBe(Math.ceil((500 + estimateMessagesTokens(small)) * 30));
  });

  it("refuses options that cannot work", () => {
    expect(() => rollingHistory({ thresholdRatio: 1.5 })).toThrow(/thresholdRatio/);
    expect(() => rollingHistory({ compaction: { summaryTokens: 0 } })).toThrow(/summaryTokens/);
  });
});
