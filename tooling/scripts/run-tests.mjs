#!/usr/bin/env node
// The repository's test command. Without arguments: the typecheck and build of every package, the
// formatter and linter (Biome), the package checks (pack + publint + attw), the API reports, then
// every test project in one vitest run (the layering and import-cycle checks are tests there). Each
// check counts as one test in the plain `N passed, N failed, N skipped` line CI reads. Extra
// arguments go to vitest and run only the typecheck and those tests, e.g.
// `pnpm test packages/core/src/turn`.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1" };
const invokedFrom = process.env.INIT_CWD ?? process.cwd();
// vitest matches a relative filter only inside a project root, so `pnpm test tooling` would find
// nothing; an absolute path matches every test file under it.
const extraArgs = process.argv
  .slice(2)
  .filter((argument, index) => !(index === 0 && argument === "--"))
  .map((argument, index, all) => {
    const previous = all[index - 1];
    if (argument.startsWith("-") || (previous?.startsWith("-") && !previous.includes("="))) return argument;
    const path = resolve(invokedFrom, argument);
    if (!existsSync(path)) return argument;
    return statSync(path).isDirectory() ? `${path}${sep}` : path;
  });

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: "inherit" });
  if (result.error) console.error(result.error.message);
  return result.status ?? 1;
}

const fullRun = extraArgs.length === 0;
let checksPassed = 0;
let checksFailed = 0;
/** Runs one check; its failure is counted, and named at the end. */
const failedChecks = [];
function check(name, command, args) {
  console.log(`\n== ${name}`);
  if (run(command, args) === 0) {
    checksPassed += 1;
  } else {
    checksFailed += 1;
    failedChecks.push(name);
  }
}

// Turbo runs both at once and caches them per package; the build feeds the package checks and the
// API reports, which read `dist`.
check(fullRun ? "typecheck and build" : "typecheck", "pnpm", [
  "exec",
  "turbo",
  "run",
  ...(fullRun ? ["typecheck", "build"] : ["typecheck"]),
  "--output-logs=errors-only",
]);
/** Runs `command` with its output captured: resolves with its exit status and everything it printed. */
function runCaptured(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("error", (error) => resolve({ status: 1, output: `${output}${error.message}\n` }));
    child.on("close", (status) => resolve({ status: status ?? 1, output }));
  });
}

/**
 * Runs checks at once (each is mostly one single-threaded process, and they only read `dist`),
 * then reports each with its output, in the order given, as `check` does.
 */
async function concurrentChecks(checks) {
  const results = await Promise.all(checks.map(({ command, args }) => runCaptured(command, args)));
  for (const [index, { name }] of checks.entries()) {
    const { status, output } = results[index];
    console.log(`\n== ${name}`);
    process.stdout.write(output);
    if (status === 0) {
      checksPassed += 1;
    } else {
      checksFailed += 1;
      failedChecks.push(name);
    }
  }
}

if (fullRun) {
  check("format and lint (biome ci)", "pnpm", ["exec", "biome", "ci", "--error-on-warnings", "."]);
  await concurrentChecks([
    { name: "package checks (pack, publint, attw)", command: "node", args: ["tooling/scripts/check-packages.mjs"] },
    { name: "API reports", command: "node", args: ["tooling/scripts/api-reports.mjs"] },
  ]);
}

const reportDirectory = mkdtempSync(join(tmpdir(), "lash-vitest-"));
const report = join(reportDirectory, "report.json");
// Most test files wait: on child processes, PostgreSQL, sockets and a browser. vitest's default of
// one worker per core but one leaves a two-core machine running one file at a time, a core idle
// through every wait. (Given on the command line: a `maxWorkers` in the root config with projects
// did not change the number of workers.)
const workers = Math.max(2, availableParallelism() - 1);
const vitestStatus = run("pnpm", [
  "exec",
  "vitest",
  "run",
  `--maxWorkers=${workers}`,
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...extraArgs,
]);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed = json.numPassedTests ?? 0;
  failed = json.numFailedTests ?? 0;
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  // A file that failed to load or crashed in a hook has no failed test, only a failed file: count it.
  for (const file of json.testResults ?? []) {
    if (file.status === "failed" && (file.assertionResults ?? []).every((assertion) => assertion.status !== "failed")) failed += 1;
  }
} else {
  failed += 1;
}
rmSync(reportDirectory, { recursive: true, force: true });
// Unhandled errors, or no test file matching a filter, fail the run without failing a test.
if (vitestStatus !== 0 && failed === 0) failed += 1;

passed += checksPassed;
failed += checksFailed;
if (failedChecks.length > 0) console.error(`failed checks: ${failedChecks.join(", ")}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
