#!/usr/bin/env node
// The repository's test command: layering check, typecheck of every package, then every test
// project in one vitest run. Prints one plain `N passed, N failed, N skipped` line for CI.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", FORCE_COLOR: process.env.FORCE_COLOR ?? "0" };
const extraArgs = process.argv.slice(2);

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: "inherit" });
  return result.status ?? 1;
}

let failures = 0;
let typecheckFailed = false;
if (extraArgs.length === 0) {
  if (run("pnpm", ["exec", "turbo", "run", "typecheck", "--output-logs=errors-only"]) !== 0) {
    typecheckFailed = true;
    console.error("typecheck failed");
  }
}

const report = join(root, ".vitest-report.json");
rmSync(report, { force: true });
const vitestStatus = run("pnpm", ["exec", "vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...extraArgs]);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed = json.numPassedTests ?? 0;
  failed = json.numFailedTests ?? 0;
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  // A file that failed to load has no failed test but a failed suite: count it as a failure.
  for (const file of json.testResults ?? []) {
    if (file.status === "failed" && (file.assertionResults ?? []).every((assertion) => assertion.status !== "failed")) failed += 1;
  }
  rmSync(report, { force: true });
} else {
  failed += 1;
}
if (typecheckFailed) failed += 1;
if (vitestStatus !== 0 && failed === 0) failed += 1;
failures = failed;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failures > 0 ? 1 : 0);
