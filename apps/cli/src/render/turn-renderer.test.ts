import { PassThrough } from "node:stream";
import type { AssembledTurn, TurnActivity } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CliIo } from "../cli-io.js";
import { createTurnRenderer } from "./turn-renderer.js";

/** A stream that records what was written, posing as a terminal or not. */
function recorder(isTTY: boolean): PassThrough & { readonly isTTY: boolean; text(): string } {
  const stream = new PassThrough();
  let written = "";
  stream.on("data", (chunk: Buffer) => (written += chunk.toString("utf8")));
  return Object.assign(stream, { isTTY, text: () => written });
}

function ioFor(isTTY: boolean, env: NodeJS.ProcessEnv = {}) {
  const stdout = recorder(isTTY);
  const stderr = recorder(isTTY);
  const io: CliIo = { stdin: new PassThrough(), stdout, stderr, env, cwd: "/", homeDirectory: "/", debug: false };
  return { io, stdout, stderr };
}

let sequence = 0;
function activity(event: Record<string, unknown>, correlationId = "prose-1"): TurnActivity {
  sequence += 1;
  return { id: `a${sequence}`, correlationId, ...event } as TurnActivity;
}

const finished = {
  outcome: { type: "finished", finish: { type: "assistant_message", text: "Hi there." } },
  assistantOutput: { safeText: "Hi there.", rawText: "Hi there." },
  tokenUsage: { inputTokens: 10, outputTokens: 3, cachedInputTokens: 0, reasoningTokens: 0 },
} as unknown as AssembledTurn;

async function play(renderer: ReturnType<typeof createTurnRenderer>): Promise<void> {
  renderer.emit(activity({ type: "model_request_started", modeIteration: 0 }));
  // The spinner draws again every 80 ms while nothing arrives.
  vi.advanceTimersByTime(200);
  renderer.emit(activity({ type: "text_delta", text: "Hi " }));
  renderer.emit(activity({ type: "text_delta", text: "there." }));
  renderer.finish(finished);
}

describe("the turn renderer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("on a terminal: a spinner until the first token, coloured progress, the answer on stdout", async () => {
    const { io, stdout, stderr } = ioFor(true);
    await play(createTurnRenderer(io, { streamAnswer: true, sessionId: "s-1" }));
    expect(stdout.text()).toBe("Hi there.\n");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test reads terminal escape sequences
    expect(stderr.text()).toMatch(/^\r⠋ thinking\r⠙ thinking\r⠹ thinking\r\u001b\[2K/);
    expect(stderr.text()).toContain("\r\u001b[2K");
    expect(stderr.text()).toContain("\u001b[2mlash:\u001b[22m finished · 1 model call · tokens 10 in, 3 out · session s-1\n");
  });

  it("on a terminal with NO_COLOR: the spinner stays, the colours go", async () => {
    const { io, stderr } = ioFor(true, { NO_COLOR: "1" });
    await play(createTurnRenderer(io, { streamAnswer: true, sessionId: "s-1" }));
    expect(stderr.text()).toContain("⠋ thinking");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test reads terminal escape sequences
    expect(stderr.text()).not.toMatch(/\u001b\[\d+m/);
  });

  it("on a dumb terminal (TERM=dumb): no spinner, which would need cursor control", async () => {
    const { io, stderr } = ioFor(true, { TERM: "dumb" });
    await play(createTurnRenderer(io, { streamAnswer: true, sessionId: "s-1" }));
    expect(stderr.text()).not.toContain("thinking");
    expect(stderr.text()).not.toContain("\r");
  });

  it("into a pipe: no spinner, no colour, only the summary on stderr", async () => {
    const { io, stdout, stderr } = ioFor(false);
    await play(createTurnRenderer(io, { streamAnswer: true, sessionId: "s-1" }));
    expect(stdout.text()).toBe("Hi there.\n");
    expect(stderr.text()).toBe("lash: finished · 1 model call · tokens 10 in, 3 out · session s-1\n");
  });

  it("with streamAnswer off (--json) nothing goes to stdout", async () => {
    const { io, stdout } = ioFor(false);
    await play(createTurnRenderer(io, { streamAnswer: false, sessionId: "s-1" }));
    expect(stdout.text()).toBe("");
  });
});

describe("approval activities", () => {
  const request = {
    id: "req-1",
    sessionId: "s-1",
    turnId: "t-1",
    turnIndex: 1,
    callId: "call-1",
    tool: "write_file",
    args: { path: "out.txt", content: "written" },
    summary: "create out.txt (7 bytes)",
    messageId: "m-1",
    modeIteration: 0,
    requestedAt: "2026-12-07T10:00:00.000Z",
  };
  const resolved = (source: "handler" | "resume", decision: "approved" | "rejected", reason?: string) =>
    activity(
      {
        type: "approval_resolved",
        id: "req-1",
        sessionId: "s-1",
        callId: "call-1",
        tool: "write_file",
        resolution: { decision, decidedBy: "cli:alice", decidedAt: "2026-12-07T10:01:00.000Z", source, ...(reason ? { reason } : {}) },
      },
      "tool:call-1",
    );

  it("shows a request when the turn is going to wait for it, and decisions made elsewhere", () => {
    const { io, stderr } = ioFor(false);
    const renderer = createTurnRenderer(io, { streamAnswer: true, sessionId: "s-1", announceApprovals: true });
    renderer.emit(activity({ type: "approval_requested", request }, "tool:call-1"));
    renderer.emit(resolved("resume", "approved"));
    renderer.emit(resolved("resume", "rejected", "not now"));
    expect(stderr.text()).toBe(
      [
        "? waiting for approval: write_file create out.txt (7 bytes) [req-1]",
        "✓ write_file approved by cli:alice [req-1]",
        "✗ write_file rejected by cli:alice (not now) [req-1]",
        "",
      ].join("\n"),
    );
  });

  it("stays quiet when the command asks itself (chat) and about its own approver's answers", () => {
    const { io, stderr } = ioFor(false);
    const renderer = createTurnRenderer(io, { streamAnswer: true, sessionId: "s-1" });
    renderer.emit(activity({ type: "approval_requested", request }, "tool:call-1"));
    renderer.emit(resolved("handler", "approved"));
    expect(stderr.text()).toBe("");
  });
});

describe("plugin events", () => {
  const pluginEvent = (pluginId: string, event: Record<string, unknown>) => activity({ type: "plugin_event", pluginId, event });

  it("shows the rolling history's compactions and plugins' status lines, escaping control characters", () => {
    const { io, stderr } = ioFor(false);
    const renderer = createTurnRenderer(io, { streamAnswer: true, sessionId: "s-1" });
    renderer.emit(
      pluginEvent("lash.context", {
        kind: "custom",
        name: "history_compacted",
        payload: {
          reason: "threshold",
          summaryNodeId: "n",
          summarizedMessages: 120,
          keptMessages: 6,
          tokensBefore: 41_000,
          tokensAfter: 7_900,
        },
      }),
    );
    renderer.emit(
      pluginEvent("lash.context", {
        kind: "custom",
        name: "history_compaction_failed",
        payload: { reason: "overflow", message: "no\u001b[2Jroom" },
      }),
    );
    renderer.emit(pluginEvent("indexer", { kind: "status", key: "k", label: "indexing 3 files" }));
    // Another plugin's custom events are its own business.
    renderer.emit(pluginEvent("indexer", { kind: "custom", name: "progress", payload: 3 }));
    expect(stderr.text()).toBe(
      [
        "⋯ history compacted: ~41,000 → ~7,900 tokens (120 messages summarized)",
        "⋯ history compaction failed: no\\u001b[2Jroom",
        "⋯ indexer: indexing 3 files",
        "",
      ].join("\n"),
    );
  });
});
