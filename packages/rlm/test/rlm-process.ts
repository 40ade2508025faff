// One process of the restart test: opens the SQLite session, runs one scripted RLM turn, prints
// the outcome as JSON and exits. `node --conditions=@lash/source --import tsx rlm-process.ts <db> <phase>`.
import { LashRuntime } from "@lash/core";
import { createSqlSessionDatabase } from "@lash/stores/sql";
import { ScriptedProvider } from "@lash/testkit";
import { createRlmMode } from "../src/index.js";
import { cellStep } from "./rlm-fixtures.js";

const [databasePath, phase] = process.argv.slice(2);
if (databasePath === undefined || (phase !== "define" && phase !== "use")) throw new Error("usage: rlm-process.ts <db> define|use");

const steps =
  phase === "define"
    ? [
        cellStep(
          "const config = { retries: 3, names: ['a', 'b'] };\nlet counter = 41;\nfunction helper() { return 1; }\nconst seen = new Map([['k', 1]]);\nsubmit('defined');",
        ),
      ]
    : [cellStep("counter += 1;\nprint(typeof helper, typeof seen);\nsubmit({ counter, retries: config.retries, names: config.names });")];

const database = createSqlSessionDatabase({ connection: `sqlite:${databasePath}` });
await database.migrateToLatest();
const runtime = await LashRuntime.builder()
  .withProvider(new ScriptedProvider(steps))
  .withMode(createRlmMode())
  .withPolicy({ executionMode: "rlm", maxContextTokens: 200_000 })
  .withStore(database.openSession("restart-session"))
  .build();
const turn = await runtime.runTurn(phase === "define" ? "define things" : "use them");
const cells = runtime
  .activeMessages()
  .flatMap((message) => message.parts.flatMap((part) => (part.kind === "text" && part.content.startsWith("[cell") ? [part.content] : [])));
process.stdout.write(`${JSON.stringify({ outcome: turn.outcome, lastCell: cells.at(-1) })}\n`);
await database.destroy();
