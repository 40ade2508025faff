// Turns that wait durably for approval decisions (ADR 0029): a turn suspends with the calls nobody
// decided, any runtime on the same store continues it with `resumeTurn`, and the ledger counts
// every model call once. "Another process" is a second runtime over the same session database.
import type { ApprovalRequest, LlmRequest, SessionEvent, ToolDefinition, TurnStop } from "@lash/protocol";
import { ApprovalAlreadyDecidedError, ApprovalConflictError, ApprovalNotFoundError, addTokenUsage, emptyTokenUsage } from "@lash/protocol";
import { textStep, toolCallStep } from "@lash/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { RecordingActivities, RecordingSink } from "../../test/fixtures.js";
import {
  environmentFixture,
  expectLashError,
  failureOf,
  InstrumentedStore,
  runtimeOn,
  scriptedProvider,
} from "../../test/persistence-helpers.js";
import { defineTool, LashRuntime, type Residency, textInput } from "../index.js";
import type { RuntimeEnvironment } from "./runtime-environment.js";

const CALL_USAGE = { inputTokens: 10, outputTokens: 4, cachedInputTokens: 0, reasoningTokens: 0 };
const ANSWER_USAGE = { inputTokens: 30, outputTokens: 6, cachedInputTokens: 2, reasoningTokens: 1 };

/** Tools of a workspace: `write` needs approval, `read` does not; both record what they did. */
function workspace() {
  const written: string[] = [];
  const read: string[] = [];
  const write = defineTool({
    name: "write",
    description: "Write a file.",
    inputSchema: z.object({ path: z.string() }),
    needsApproval: true,
    describeApproval: ({ path }) => `overwrite ${path}`,
    execute: ({ path }) => {
      written.push(path);
      return `wrote ${path}`;
    },
  });
  const readTool = defineTool({
    name: "read",
    description: "Read a file.",
    inputSchema: z.object({ path: z.string() }),
    execute: ({ path }) => {
      read.push(path);
      return `contents of ${path}`;
    },
  });
  return { tools: [write, readTool] as ToolDefinition<unknown>[], written, read };
}

/** One model call asking for a read and two writes, then the final answer. */
const mixedBatch = () =>
  toolCallStep(
    [
      { callId: "call-read", name: "read", args: { path: "notes.md" } },
      { callId: "call-a", name: "write", args: { path: "a.ts" } },
      { callId: "call-b", name: "write", args: { path: "b.ts" } },
    ],
    { usage: CALL_USAGE },
  );

function awaiting(stop: TurnStop | undefined): ApprovalRequest[] {
  if (stop?.type !== "awaiting_approval") throw new Error(`expected awaiting_approval, got ${stop?.type}`);
  return stop.approvals;
}

function stopOf(turn: { outcome: { type: string; stop?: TurnStop } }): TurnStop | undefined {
  return turn.outcome.type === "stopped" ? turn.outcome.stop : undefined;
}

/** The tool results of the last model request, in order. */
function lastToolResults(requests: readonly LlmRequest[]): { callId: string; content: string }[] {
  const request = requests.at(-1);
  const last = request?.messages.at(-1);
  return (last?.blocks ?? []).flatMap((block) => (block.type === "tool_result" ? [{ callId: block.callId, content: block.content }] : []));
}

function ledgerTotal(runtime: LashRuntime) {
  return runtime.tokenLedger().reduce((total, entry) => addTokenUsage(total, entry.usage), emptyTokenUsage());
}

async function suspendedSession(residency: Residency, extraSteps = [textStep("Both files are handled.", { usage: ANSWER_USAGE })]) {
  const { tools, written, read } = workspace();
  const provider = scriptedProvider([mixedBatch(), ...extraSteps]);
  const { environment, database } = environmentFixture({ provider, tools, residency });
  const first = await runtimeOn(environment, "session", database.openSession("session"));
  const events = new RecordingSink();
  const turn = await first.runTurn({ ...textInput("update a.ts and b.ts"), traceTurnId: "turn-1" }, { events });
  return { first, turn, events, environment, database, provider, written, read };
}

function reopen(environment: RuntimeEnvironment, database: ReturnType<typeof environmentFixture>["database"]) {
  return runtimeOn(environment, "session", database.openSession("session"));
}

afterEach(() => {
  vi.useRealTimers();
});

describe.each<Residency>(["keep_all", "active_path_only"])("a turn that waits for approval (%s)", (residency) => {
  it("suspends when nobody answers: the other calls ran, the turn is committed and lists the open requests", async () => {
    const { first, turn, events, written, read } = await suspendedSession(residency);
    const approvals = awaiting(stopOf(turn));
    expect(approvals.map((request) => [request.callId, request.tool, request.summary])).toEqual([
      ["call-a", "write", "overwrite a.ts"],
      ["call-b", "write", "overwrite b.ts"],
    ]);
    expect(read).toEqual(["notes.md"]);
    expect(written).toEqual([]);
    expect(turn.toolCalls.map((record) => record.callId)).toEqual(["call-read"]);
    expect(turn.state.turnIndex).toBe(1);
    expect(turn.tokenUsage).toEqual(CALL_USAGE);
    expect(ledgerTotal(first)).toEqual(CALL_USAGE);
    expect(events.ofType("approval_requested").map((event) => event.request.callId)).toEqual(["call-a", "call-b"]);
    expect(await first.pendingApprovals()).toEqual(approvals);
    const refused = await failureOf(() => first.runTurn(textInput("something else")));
    expectLashError(refused, "turn_awaiting_approval");
  });

  it("continues the same turn in another runtime: one call approved, one rejected with its reason, usage counted once", async () => {
    const { turn, environment, database, provider, written } = await suspendedSession(residency);
    const [requestA, requestB] = awaiting(stopOf(turn));
    const second = await reopen(environment, database);
    expect((await second.pendingApprovals()).map((request) => request.id)).toEqual([requestA?.id, requestB?.id]);

    const events = new RecordingSink();
    const partial = await second.resumeTurn(
      { decisions: [{ id: requestA?.id ?? "", decision: "approve" }], decidedBy: "alice" },
      { events },
    );
    // One request is still open: nothing ran, and the turn waits for the other decision.
    expect(awaiting(stopOf(partial)).map((request) => request.id)).toEqual([requestB?.id]);
    expect(written).toEqual([]);
    expect(
      events.ofType("approval_resolved").map((event) => [event.callId, event.resolution.decision, event.resolution.decidedBy]),
    ).toEqual([["call-a", "approved", "alice"]]);

    const third = await reopen(environment, database);
    const finished = await third.resumeTurn({
      decisions: [{ id: requestB?.id ?? "", decision: "reject", reason: "b.ts is generated", decidedBy: "bob" }],
    });
    expect(finished.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Both files are handled." } });
    expect(written).toEqual(["a.ts"]);
    // The model got every result of the batch, in call order, in one message.
    expect(lastToolResults(provider.requests).map((result) => result.callId)).toEqual(["call-read", "call-a", "call-b"]);
    expect(lastToolResults(provider.requests)[2]?.content).toMatch(/rejected this call: b\.ts is generated/);
    expect(finished.toolCalls.map((record) => [record.callId, record.approval?.decision, record.approval?.decidedBy])).toEqual([
      ["call-a", "approved", "alice"],
      ["call-b", "rejected", "bob"],
    ]);
    expect(finished.state.turnIndex).toBe(1);
    expect(finished.tokenUsage).toEqual(addTokenUsage(CALL_USAGE, ANSWER_USAGE));
    expect(ledgerTotal(third)).toEqual(addTokenUsage(CALL_USAGE, ANSWER_USAGE));
    expect(await third.pendingApprovals()).toEqual([]);

    // The session goes on normally, and a fourth runtime sees the same ledger.
    const fourth = await reopen(environment, database);
    expect(ledgerTotal(fourth)).toEqual(addTokenUsage(CALL_USAGE, ANSWER_USAGE));
    expect(fourth.activeToolCalls().map((record) => record.callId)).toEqual(["call-read", "call-a", "call-b"]);
  });

  it("refuses unknown, decided and missing requests with typed errors, writing nothing", async () => {
    const { turn, environment, database, written } = await suspendedSession(residency);
    const [requestA, requestB] = awaiting(stopOf(turn));
    const runtime = await reopen(environment, database);
    const unknown = await failureOf(() => runtime.resumeTurn({ decisions: [{ id: "nope", decision: "approve" }] }).result);
    expect(ApprovalNotFoundError.isInstance(unknown)).toBe(true);
    expect((unknown as ApprovalNotFoundError).ids).toEqual(["nope"]);
    // A batch of decisions with one bad id decides nothing.
    const mixed = await failureOf(
      () =>
        runtime.resumeTurn({
          decisions: [
            { id: requestA?.id ?? "", decision: "approve" },
            { id: "nope", decision: "approve" },
          ],
        }).result,
    );
    expect(ApprovalNotFoundError.isInstance(mixed)).toBe(true);
    expect((await runtime.pendingApprovals()).length).toBe(2);
    const duplicate = await failureOf(
      () =>
        runtime.resumeTurn({
          decisions: [
            { id: requestA?.id ?? "", decision: "approve" },
            { id: requestA?.id ?? "", decision: "reject" },
          ],
        }).result,
    );
    expectLashError(duplicate, "invalid_argument");

    await runtime.resumeTurn({
      decisions: [
        { id: requestA?.id ?? "", decision: "approve" },
        { id: requestB?.id ?? "", decision: "approve" },
      ],
    });
    expect(written).toEqual(["a.ts", "b.ts"]);
    const again = await failureOf(() => runtime.resumeTurn({ decisions: [{ id: requestA?.id ?? "", decision: "reject" }] }).result);
    expect(ApprovalAlreadyDecidedError.isInstance(again)).toBe(true);
    expect((again as ApprovalAlreadyDecidedError).resolution.decision).toBe("approved");
    const nothing = await failureOf(() => runtime.resumeTurn({ decisions: [] }).result);
    expectLashError(nothing, "no_suspended_turn");
    expect(written).toEqual(["a.ts", "b.ts"]);
  });

  it("lets the first of two racing deciders win; the other gets a conflict and runs nothing", async () => {
    const { turn, environment, database, written } = await suspendedSession(residency);
    const approvals = awaiting(stopOf(turn));
    const left = await reopen(environment, database);
    const right = await reopen(environment, database);
    const decisions = approvals.map((request) => ({ id: request.id, decision: "approve" as const }));
    const results = await Promise.allSettled([
      left.resumeTurn({ decisions, decidedBy: "left" }).result,
      right.resumeTurn({ decisions: approvals.map((request) => ({ id: request.id, decision: "reject" as const })), decidedBy: "right" })
        .result,
    ]);
    const fulfilled = results.filter((result) => result.status === "fulfilled");
    const rejected = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(ApprovalConflictError.isInstance(rejected[0]) || ApprovalAlreadyDecidedError.isInstance(rejected[0])).toBe(true);
    // Each call ran at most once, as the winner decided.
    const winner = results[0]?.status === "fulfilled" ? "left" : "right";
    expect(written).toEqual(winner === "left" ? ["a.ts", "b.ts"] : []);
    const later = await reopen(environment, database);
    const late = await failureOf(() => later.resumeTurn({ decisions: [{ id: approvals[0]?.id ?? "", decision: "approve" }] }).result);
    expect(ApprovalAlreadyDecidedError.isInstance(late)).toBe(true);
    expect((late as ApprovalAlreadyDecidedError).resolution.decidedBy).toBe(winner);
  });

  it("expires a request nobody decided in time: the turn resumes with it rejected as expired", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-12-07T10:00:00Z"));
    const { tools, written } = workspace();
    const provider = scriptedProvider([mixedBatch(), textStep("Nothing was written.", { usage: ANSWER_USAGE })]);
    const { environment, database } = environmentFixture({
      provider,
      tools,
      residency,
      configure: (builder) => builder.withApprovals({ expiresInMs: 60_000 }),
    });
    const first = await runtimeOn(environment, "session", database.openSession("session"));
    const turn = await first.runTurn(textInput("update a.ts and b.ts"));
    const [requestA, requestB] = awaiting(stopOf(turn));
    expect(requestA?.expiresAt).toBe("2026-12-07T10:01:00.000Z");

    vi.setSystemTime(new Date("2026-12-07T10:02:00Z"));
    const later = await reopen(environment, database);
    expect(await later.pendingApprovals()).toEqual([]);
    const late = await failureOf(() => later.resumeTurn({ decisions: [{ id: requestA?.id ?? "", decision: "approve" }] }).result);
    expect(ApprovalAlreadyDecidedError.isInstance(late)).toBe(true);
    expect((late as ApprovalAlreadyDecidedError).resolution).toMatchObject({ decision: "rejected", reason: "expired", source: "expiry" });

    const events = new RecordingSink();
    const activities = new RecordingActivities();
    const finished = await later.resumeTurn({ decisions: [] }, { events, activities });
    expect(finished.outcome.type).toBe("finished");
    expect(written).toEqual([]);
    expect(finished.toolCalls.map((record) => record.approval?.source)).toEqual(["expiry", "expiry"]);
    expect(finished.errors.map((issue) => issue.code)).toEqual(["approval_expired", "approval_expired"]);
    expect(lastToolResults(provider.requests).map((result) => result.content.includes("expired"))).toEqual([false, true, true]);
    expect(events.ofType("approval_resolved").map((event) => event.id)).toEqual([requestA?.id, requestB?.id]);
    // Calls decided against never run, yet a reader of the stream still sees each one completed.
    expect(activities.ofType("tool_call_completed").map((activity) => [activity.callId, activity.approval?.source])).toEqual([
      ["call-a", "expiry"],
      ["call-b", "expiry"],
    ]);
  });

  it("runs approved calls that never ran when the process died after the decision was committed", async () => {
    const { tools, written } = workspace();
    // The dead process's model call is lost with it; the restarted one calls the model again.
    const provider = scriptedProvider([
      mixedBatch(),
      textStep("Done.", { usage: ANSWER_USAGE }),
      textStep("Done.", { usage: ANSWER_USAGE }),
    ]);
    const { environment, database } = environmentFixture({ provider, tools, residency });
    const first = await runtimeOn(environment, "session", database.openSession("session"));
    const turn = await first.runTurn({ ...textInput("update"), traceTurnId: "turn-1" });
    const approvals = awaiting(stopOf(turn));

    // The decision reaches the store; the process dies before the tools run.
    const dying = new InstrumentedStore({ sessionId: "session", database });
    const crashed = await runtimeOn(environment, "session", dying);
    dying.failCommits((commit) => (commit.commitId.includes(":decide:") ? undefined : "before_apply"));
    const error = await failureOf(
      () => crashed.resumeTurn({ decisions: approvals.map((request) => ({ id: request.id, decision: "approve" as const })) }).result,
    );
    expectLashError(error, "store_commit_failed");
    const decided = dying.commits.map(({ commit }) => commit.commitId);
    expect(decided.some((id) => id.startsWith("turn-1:decide:"))).toBe(true);

    const restarted = await reopen(environment, database);
    expect(await restarted.pendingApprovals()).toEqual([]);
    const finished = await restarted.resumeTurn({ decisions: [] });
    expect(finished.outcome.type).toBe("finished");
    // At least once: the calls ran in the dead process (tools do not see the store) and again here.
    expect(written).toEqual(["a.ts", "b.ts", "a.ts", "b.ts"]);
    // The dead process's answer never reached the store; the ledger has what was committed, once.
    expect(ledgerTotal(restarted)).toEqual(addTokenUsage(CALL_USAGE, ANSWER_USAGE));
  });

  it("survives park and LashRuntime.resume", async () => {
    const { first, turn, environment, written } = await suspendedSession(residency);
    const parked = await first.park();
    const resumed = await LashRuntime.resume(parked, environment);
    const approvals = await resumed.pendingApprovals();
    expect(approvals.map((request) => request.id)).toEqual(awaiting(stopOf(turn)).map((request) => request.id));
    const finished = await resumed.resumeTurn({
      decisions: approvals.map((request) => ({ id: request.id, decision: "approve" as const })),
    });
    expect(finished.outcome.type).toBe("finished");
    expect(written).toEqual(["a.ts", "b.ts"]);
  });
});

describe("a resumed turn keeps its limits and its commit ids", () => {
  it("counts model calls across the suspension: maxModelCalls stops the resumed turn where the whole turn reaches it", async () => {
    const { tools, written } = workspace();
    const provider = scriptedProvider([
      mixedBatch(),
      toolCallStep([{ callId: "call-read-2", name: "read", args: { path: "more.md" } }], { usage: CALL_USAGE }),
      textStep("never reached"),
    ]);
    const { environment, database } = environmentFixture({
      provider,
      tools,
      configure: (builder) => builder.withTermination({ treatMissingDoneAsFailure: true, maxModelCalls: 2 }),
    });
    const first = await runtimeOn(environment, "session", database.openSession("session"));
    const approvals = awaiting(stopOf(await first.runTurn(textInput("update"))));
    const second = await reopen(environment, database);
    const turn = await second.resumeTurn({ decisions: approvals.map((request) => ({ id: request.id, decision: "approve" as const })) });
    // The second model call is the turn's last: its read runs, then the turn stops.
    expect(stopOf(turn)).toEqual({ type: "max_turns" });
    expect(provider.requests).toHaveLength(2);
    expect(written).toEqual(["a.ts", "b.ts"]);
    expect(turn.tokenUsage).toEqual(addTokenUsage(CALL_USAGE, CALL_USAGE));
  });

  it("a batch past maxToolCalls suspends with the skipped call recorded, and stops budget_exhausted once resumed", async () => {
    const { tools, written } = workspace();
    const provider = scriptedProvider([mixedBatch(), textStep("never reached")]);
    const { environment, database } = environmentFixture({
      provider,
      tools,
      configure: (builder) => builder.withTermination({ treatMissingDoneAsFailure: true, maxToolCalls: 2 }),
    });
    const first = await runtimeOn(environment, "session", database.openSession("session"));
    const suspended = await first.runTurn(textInput("update"));
    expect(awaiting(stopOf(suspended)).map((request) => request.callId)).toEqual(["call-a"]);
    expect(suspended.toolCalls.map((record) => [record.callId, record.output.outcome.status])).toEqual([
      ["call-read", "success"],
      ["call-b", "cancelled"],
    ]);
    const second = await reopen(environment, database);
    const turn = await second.resumeTurn({ decisions: [{ id: awaiting(stopOf(suspended))[0]?.id ?? "", decision: "approve" }] });
    expect(stopOf(turn)).toEqual({ type: "budget_exhausted", budget: "tool_calls" });
    expect(written).toEqual(["a.ts"]);
    expect(provider.requests).toHaveLength(1);
    expect(second.activeToolCalls().map((record) => record.callId)).toEqual(["call-read", "call-b", "call-a"]);
  });

  it("suspends again in the same turn; each run commits under its own segment's ids", async () => {
    const { tools, written } = workspace();
    const provider = scriptedProvider([
      mixedBatch(),
      toolCallStep([{ callId: "call-c", name: "write", args: { path: "c.ts" } }], { usage: CALL_USAGE }),
      textStep("All three written.", { usage: ANSWER_USAGE }),
    ]);
    const { environment, database } = environmentFixture({ provider, tools });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);
    const first = await runtime.runTurn({ ...textInput("update"), traceTurnId: "turn-1" });
    const approveAll = (requests: ApprovalRequest[]) => ({
      decisions: requests.map((request) => ({ id: request.id, decision: "approve" as const })),
    });
    const second = await runtime.resumeTurn(approveAll(awaiting(stopOf(first))));
    const again = awaiting(stopOf(second));
    expect(again.map((request) => [request.callId, request.turnIndex])).toEqual([["call-c", 1]]);
    const finished = await runtime.resumeTurn(approveAll(again));
    expect(finished.outcome.type).toBe("finished");
    expect(written).toEqual(["a.ts", "b.ts", "c.ts"]);
    expect(finished.state.turnIndex).toBe(1);
    expect(finished.tokenUsage).toEqual(addTokenUsage(addTokenUsage(CALL_USAGE, CALL_USAGE), ANSWER_USAGE));
    expect(ledgerTotal(runtime)).toEqual(finished.tokenUsage);
    const ids = store.commits.map(({ commit }) => commit.commitId.replace(/decide:[0-9a-f-]+$/, "decide:<uuid>"));
    expect(ids).toEqual([
      "turn-1:prepared",
      "turn-1:suspend:1",
      "turn-1:decide:<uuid>",
      "turn-1:s2:progress:1",
      "turn-1:suspend:2",
      "turn-1:decide:<uuid>",
      "turn-1:s3:progress:1",
      "turn-1:s3:final",
    ]);
    // ADR 0030: the prepared and progress commits are checkpoints; a suspension, a decision and the
    // final commit must survive a power loss (no durability field: "turn").
    expect(store.commits.map(({ commit }) => commit.durability)).toEqual([
      "checkpoint",
      undefined,
      undefined,
      "checkpoint",
      undefined,
      undefined,
      "checkpoint",
      undefined,
    ]);
  });
});

describe("a turn that waits for approval, without a store", () => {
  it("suspends and resumes in the same runtime; a deferring approver suspends too", async () => {
    const { tools, written } = workspace();
    const provider = scriptedProvider([mixedBatch(), textStep("ok")]);
    const runtime = await LashRuntime.builder()
      .withPolicy({ model: "mock-model", maxContextTokens: 200_000 })
      .withProvider(provider)
      .withTools(tools)
      .withApprovals({
        approve: (request) => (request.args && JSON.stringify(request.args).includes("a.ts") ? { type: "approve" } : { type: "defer" }),
      })
      .build();
    const turn = await runtime.runTurn(textInput("update"));
    const approvals = awaiting(stopOf(turn));
    expect(approvals.map((request) => request.callId)).toEqual(["call-b"]);
    expect(written).toEqual(["a.ts"]);
    const streamed: SessionEvent["type"][] = [];
    const stream = runtime.resumeTurn(
      { decisions: [{ id: approvals[0]?.id ?? "", decision: "approve" }] },
      { events: { emit: (event) => void streamed.push(event.type) } },
    );
    const activities: string[] = [];
    for await (const activity of stream) activities.push(activity.type);
    const finished = await stream;
    expect(finished.outcome.type).toBe("finished");
    expect(written).toEqual(["a.ts", "b.ts"]);
    expect(activities.indexOf("approval_resolved")).toBeLessThan(activities.lastIndexOf("tool_call_completed"));
    expect(streamed).toContain("done");
  });

  it("does not suspend a cancelled turn: its open calls are cancelled", async () => {
    const { tools, written } = workspace();
    const provider = scriptedProvider([mixedBatch(), textStep("ok")]);
    const controller = new AbortController();
    const runtime = await LashRuntime.builder()
      .withPolicy({ model: "mock-model", maxContextTokens: 200_000 })
      .withProvider(provider)
      .withTools(tools)
      .withApprovals({
        approve: () => {
          controller.abort();
          return { type: "defer" };
        },
      })
      .build();
    const turn = await runtime.runTurn(textInput("update"), { signal: controller.signal });
    expect(stopOf(turn)?.type).toBe("cancelled");
    expect(written).toEqual([]);
    expect(await runtime.pendingApprovals()).toEqual([]);
  });
});
