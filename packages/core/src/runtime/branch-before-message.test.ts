import { textStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { messageTexts } from "../../test/fixtures.js";
import {
  environmentFixture,
  expectLashError,
  failureOf,
  runtimeOn,
  scriptedProvider,
  storedNodeIds,
} from "../../test/persistence-helpers.js";
import { textInput } from "../index.js";
import type { LashRuntime } from "./lash-runtime.js";

function lastUserMessageId(runtime: LashRuntime): string {
  const message = runtime.activeMessages().findLast((candidate) => candidate.role === "user");
  if (!message) throw new Error("expected a user message");
  return message.id;
}

describe("branchBeforeMessage", () => {
  it("replaces the last exchange on a new branch and keeps the old one in the store", async () => {
    const provider = scriptedProvider([textStep("one"), textStep("two"), textStep("two again")]);
    const { environment, database } = environmentFixture({ provider, residency: "active_path_only" });
    const store = database.openSession("session");
    const runtime = await runtimeOn(environment, "session", store);
    await runtime.runTurn(textInput("first"));
    await runtime.runTurn(textInput("second"));
    const before = await storedNodeIds(store);

    runtime.branchBeforeMessage(lastUserMessageId(runtime));
    expect(messageTexts(runtime, "assistant")).toEqual(["one"]);
    await runtime.runTurn(textInput("second"));

    expect(messageTexts(runtime, "user")).toEqual(["first", "second"]);
    expect(messageTexts(runtime, "assistant")).toEqual(["one", "two again"]);
    // Nothing stored was dropped: the old answer is a historic node.
    const after = await storedNodeIds(store);
    expect(after.slice(0, before.length)).toEqual(before);
    // A runtime opened afresh follows the new branch.
    const reopened = await runtimeOn(environment, "session", database.openSession("session"));
    expect(messageTexts(reopened, "assistant")).toEqual(["one", "two again"]);
  });

  it("before the first message, the next turn starts a new root that a reopened runtime follows", async () => {
    const provider = scriptedProvider([textStep("hello"), textStep("hello again")]);
    const { environment, database } = environmentFixture({ provider });
    const store = database.openSession("session");
    const runtime = await runtimeOn(environment, "session", store);
    await runtime.runTurn(textInput("hi"));

    runtime.branchBeforeMessage(lastUserMessageId(runtime));
    expect(runtime.activeMessages()).toEqual([]);
    await runtime.runTurn(textInput("hi there"));

    const reopened = await runtimeOn(environment, "session", database.openSession("session"));
    expect(messageTexts(reopened, "user")).toEqual(["hi there"]);
    expect(messageTexts(reopened, "assistant")).toEqual(["hello again"]);
    // Both roots are stored.
    const graph = (await store.loadSession({ type: "full_graph" }))?.graph;
    expect(graph?.nodes.filter((node) => node.parentNodeId === undefined)).toHaveLength(2);
  });

  it("refuses a message that is not on the active path, and moves nothing", async () => {
    const provider = scriptedProvider([textStep("one")]);
    const { environment, database } = environmentFixture({ provider });
    const runtime = await runtimeOn(environment, "session", database.openSession("session"));
    await runtime.runTurn(textInput("first"));

    const failure = await failureOf(() => runtime.branchBeforeMessage("no-such-message"));
    expect(expectLashError(failure, "invalid_argument").message).toContain("no-such-message");
    expect(messageTexts(runtime, "assistant")).toEqual(["one"]);
  });
});
