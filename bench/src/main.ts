// `pnpm bench` (root, through turbo) or `pnpm --filter @lash/bench bench`: one table of the
// per-turn cost of W1 and W2 for lash and its peers on the same zero-latency fake model, the raw
// SQLite floor, and the listing and resume figures, on stdout; the same as JSON in a file.
//
// Environment: LASH_BENCH_QUICK=1 (a smoke run: a few turns each, no timing worth reading),
// LASH_BENCH_ONLY=<ids or id prefixes, comma separated> (only those runtimes, e.g. `lash.,ai-sdk.`),
// LASH_BENCH_JSON=<path> (where the JSON goes; default a new file in the temp folder),
// LASH_BENCH_SKIP_FIGURES=1 (no listing and resume figures), BENCH_ROUNDS, BENCH_WARMUP,
// BENCH_ITERATIONS (the most timed turns per cell and round), BENCH_BUDGET_MS (time per cell and round).
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatReport, runBench } from "./run.js";

const report = await runBench();
const path = process.env.LASH_BENCH_JSON ?? join(tmpdir(), `lash-bench-${new Date().toISOString().replaceAll(":", "-")}.json`);
await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`\n${formatReport(report)}\nJSON: ${path}\n`);
