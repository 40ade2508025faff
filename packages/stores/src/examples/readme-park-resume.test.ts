import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LashRuntime, RuntimeEnvironment } from "@lash/core";
import { ScriptedProvider, textStep } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { createFileSessionDatabase } from "../fs/index.js";
import { createSqlSessionDatabase } from "../sql/index.js";

// The README's runtime examples, run as written (with the files in a temporary folder).
describe("the README's runtime examples", () => {
  let folder: string | undefined;
  afterEach(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it("parks a SQLite-backed session and resumes it with its history", async () => {
    folder = await mkdtemp(join(tmpdir(), "lash-readme-"));
    const database = createSqlSessionDatabase({ connection: `sqlite:${join(folder, "lash.db")}` });
    await database.migrateToLatest();
    const provider = new ScriptedProvider([textStep("Noted."), textStep("You said blue.")]);
    const environment = RuntimeEnvironment.builder().withProvider(provider).withSessionStoreFactory(database).build();

    const runtime = await LashRuntime.builder().withEnvironment(environment).withStore(database.openSession("chat-7")).build();
    await runtime.runTurn("My colour is blue.");
    const parked = await runtime.park();
    expect(Object.keys(parked).sort()).toEqual(["policy", "sessionId", "store"]);

    const resumed = await LashRuntime.resume(parked, environment);
    const turn = await resumed.runTurn("Which colour?");
    expect(turn.assistantOutput.safeText).toBe("You said blue.");
    // The second request carried the first turn, read back from SQLite.
    const texts = provider.requests[1]?.messages.flatMap((message) =>
      message.blocks.flatMap((block) => (block.type === "text" ? [block.text] : [])),
    );
    expect(texts).toEqual(expect.arrayContaining(["My colour is blue.", "Noted.", "Which colour?"]));
    const stored = await database.openSession("chat-7").loadSession({ type: "full_graph" });
    expect(stored?.checkpoint?.turnState.turnIndex).toBe(2);
    await database.destroy();
  });

  it("commits a turn to the filesystem store that another database object reads back", async () => {
    folder = await mkdtemp(join(tmpdir(), "lash-readme-"));
    const root = join(folder, "lash-sessions");
    const database = createFileSessionDatabase({ root });
    const runtime = await LashRuntime.builder()
      .withModel("scripted-model")
      .withProvider(new ScriptedProvider([textStep("Hello from disk.", { usage: { inputTokens: 12, outputTokens: 4 } })]))
      .withStore(database.openSession("demo-session"))
      .withSessionStoreFactory(database)
      .build();
    await runtime.runTurn("Say hello.");

    const reopened = createFileSessionDatabase({ root });
    const stored = await reopened.openSession("demo-session").loadSession({ type: "full_graph" });
    expect(stored?.headRevision).toBeGreaterThanOrEqual(1);
    expect(stored?.tokenLedger).toEqual([
      { source: "turn", model: "scripted-model", usage: { inputTokens: 12, outputTokens: 4, cachedInputTokens: 0, reasoningTokens: 0 } },
    ]);
    expect((await reopened.listSessions({ limit: 20 })).sessions.map((session) => session.sessionId)).toEqual(["demo-session"]);
  });
});
