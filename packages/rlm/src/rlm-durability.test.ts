import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { InMemorySessionDatabase, LashRuntime, RuntimeEnvironment } from "@lash/core";
import { ScriptedProvider, type ScriptedStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { cellStep } from "../test/rlm-fixtures.js";
import { createRlmMode, type RlmMode, readSandboxState } from "./index.js";

const run = promisify(execFile);

function environmentWith(mode: RlmMode, steps: readonly ScriptedStep[]): RuntimeEnvironment {
  return RuntimeEnvironment.builder().withProvider(new ScriptedProvider(steps)).withMode(mode).build();
}

async function runtimeOn(
  environment: RuntimeEnvironment,
  database: InMemorySessionDatabase,
  sessionId = "rlm-session",
): Promise<LashRuntime> {
  return LashRuntime.builder()
    .withEnvironment(environment)
    .withPolicy({ executionMode: "rlm", maxContextTokens: 200_000 })
    .withStore(database.openSession(sessionId))
    .build();
}

const DEFINE = cellStep("const config = { retries: 3 };\nlet counter = 41;\nfunction helper() { return 1; }\nsubmit('defined');");
const USE = cellStep("counter += 1;\nprint(typeof helper);\nsubmit({ counter, retries: config.retries });");

describe("the sandbox state is saved with the turn", () => {
  it("the committed checkpoint holds the JSON values and names the lost ones", async () => {
    const database = new InMemorySessionDatabase();
    const runtime = await runtimeOn(environmentWith(createRlmMode(), [DEFINE]), database);
    await runtime.runTurn("define");
    const read = await database.openSession("rlm-session").loadSession({ type: "full_graph" });
    const state = readSandboxState(read?.checkpoint?.executionState);
    expect(state?.bindings).toEqual(
      expect.arrayContaining([
        { name: "config", kind: "const", json: '{"retries":3}' },
        { name: "counter", kind: "let", json: "41" },
      ]),
    );
    expect(state?.lost).toEqual([{ name: "helper", reason: "a function" }]);
  });

  it("survives park and resume in the same process (the live sandbox keeps even the function)", async () => {
    const database = new InMemorySessionDatabase();
    const mode = createRlmMode();
    const environment = environmentWith(mode, [DEFINE, USE]);
    const runtime = await runtimeOn(environment, database);
    await runtime.runTurn("define");
    const parked = await runtime.park();
    const resumed = await LashRuntime.resume(parked, environment);
    const turn = await resumed.runTurn("use");
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: { counter: 42, retries: 3 } } });
    const completed = turn.execution.hadCodeExecution;
    expect(completed).toBe(true);
    expect(JSON.stringify(resumed.activeMessages())).toContain("[cell output]\\nfunction");
  });

  it("a fresh mode (as after a restart) restores the values and tells the model what was lost", async () => {
    const database = new InMemorySessionDatabase();
    const first = await runtimeOn(environmentWith(createRlmMode(), [DEFINE]), database);
    await first.runTurn("define");
    const mode = createRlmMode();
    const second = await runtimeOn(environmentWith(mode, [USE]), database);
    const turn = await second.runTurn("use");
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: { counter: 42, retries: 3 } } });
    const text = JSON.stringify(second.activeMessages());
    expect(text).toContain("sandbox restored from saved state: config, counter restored; not saved and undefined now: helper (a function)");
    expect(text).toContain("undefined");
    mode.dispose();
    expect(mode.liveSandboxes).toBe(0);
  });

  it("a sandbox closed to make room for another session is restored from its session's state", async () => {
    const mode = createRlmMode({ maxLiveSandboxes: 1 });
    const database = new InMemorySessionDatabase();
    const a = await runtimeOn(environmentWith(mode, [DEFINE, USE]), database, "session-a");
    const b = await runtimeOn(environmentWith(mode, [cellStep("submit(1);")]), database, "session-b");
    await a.runTurn("define");
    await b.runTurn("other");
    expect(mode.liveSandboxes).toBe(1);
    const turn = await a.runTurn("use");
    expect(turn.outcome).toMatchObject({ finish: { value: { counter: 42, retries: 3 } } });
    mode.dispose();
  });
});

describe("a real restart", () => {
  it("a second process with the SQLite store has the variables of the first", async () => {
    const folder = await mkdtemp(join(tmpdir(), "lash-rlm-"));
    try {
      const database = join(folder, "sessions.db");
      const script = fileURLToPath(new URL("../test/rlm-process.ts", import.meta.url));
      const node = (phase: string) =>
        run(process.execPath, ["--conditions=@lash/source", "--import", "tsx", script, database, phase], {
          cwd: fileURLToPath(new URL("..", import.meta.url)),
        });
      const first = JSON.parse((await node("define")).stdout.trim()) as { outcome: unknown };
      expect(first.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: "defined" } });
      const second = JSON.parse((await node("use")).stdout.trim()) as { outcome: unknown; lastCell: string };
      expect(second.outcome).toEqual({
        type: "finished",
        finish: { type: "submitted_value", value: { counter: 42, retries: 3, names: ["a", "b"] } },
      });
      expect(second.lastCell).toContain("not saved and undefined now: helper (a function), seen (a Map)");
      expect(second.lastCell).toContain("undefined undefined");
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 60_000);
});
