// The README's persistence example, run as written (keep the two in step).

import { ScriptedProvider, textStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { InMemorySessionDatabase, LashRuntime, RuntimeEnvironment } from "../index.js";

describe("README: Persistence: stores, residency, park and resume", () => {
  it("parks a session and resumes it from the same environment", async () => {
    const database = new InMemorySessionDatabase(); // one backend, many sessions
    const environment = RuntimeEnvironment.builder()
      .withProvider(new ScriptedProvider([textStep("Noted: blue."), textStep("Blue.")]))
      .withSessionStoreFactory(database) // child sessions get their own store next to the parent's
      .withResidency("active_path_only") // only the active path stays in memory
      .build();

    const runtime = await LashRuntime.builder().withEnvironment(environment).withStore(database.openSession("chat-42")).build();
    await runtime.runTurn("My favourite colour is blue.");

    // Commits everything held only in memory; `parked` is { sessionId, store, policy }, no graph.
    const parked = await runtime.park();

    // Later (here or in another process with the same environment and backend):
    const resumed = await LashRuntime.resume(parked, environment);
    const turn = await resumed.runTurn("What is my favourite colour?");

    expect(turn.assistantOutput.safeText).toBe("Blue.");
    expect(resumed.exportState().turnIndex).toBe(2);
  });
});
