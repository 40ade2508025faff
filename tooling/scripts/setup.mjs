#!/usr/bin/env node
// `pnpm`-free set-up of a fresh clone, the README's first step: picks or installs the Node.js the
// repository needs (tooling/scripts/toolchain.mjs), installs the pinned pnpm when it is missing or
// another version, then installs the workspace from the lockfile. Runs on old Node versions too.
import { execFileSync, spawnSync } from "node:child_process";
import { ensureNode, environmentWithNode, PINNED_PNPM, repositoryRoot } from "./toolchain.mjs";

function installedPnpmVersion(environment) {
  try {
    return execFileSync("pnpm", ["--version"], {
      env: environment,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      cwd: repositoryRoot,
    }).trim();
  } catch {
    return undefined;
  }
}

function run(command, args, environment) {
  const result = spawnSync(command, args, { env: environment, stdio: ["ignore", "inherit", "inherit"], cwd: repositoryRoot });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    process.stderr.write(`lash setup: \`${command} ${args.join(" ")}\` failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
}

const node = ensureNode();
const environment = environmentWithNode(node);
environment.TURBO_TELEMETRY_DISABLED = "1";
const pnpmVersion = installedPnpmVersion(environment);
if (pnpmVersion !== PINNED_PNPM) {
  process.stderr.write(`lash setup: installing pnpm ${PINNED_PNPM}${pnpmVersion === undefined ? "" : ` (found ${pnpmVersion})`}\n`);
  // The machine's own npm, on the machine's own Node: pnpm lands on the PATH the user already has.
  run("npm", ["install", "--global", `pnpm@${PINNED_PNPM}`], process.env);
}
process.stderr.write(`lash setup: Node.js ${node.version}, pnpm ${PINNED_PNPM}\n`);
run("pnpm", ["install", "--frozen-lockfile"], environment);
