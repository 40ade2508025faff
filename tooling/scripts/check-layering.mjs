#!/usr/bin/env node
// Checks that every in-repo dependency edge follows the table below (docs/architecture.md explains it).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Which in-repo packages each kind of package may depend on at run time. */
export const ALLOWED_EDGES = {
  "@lash/protocol": [],
  "@lash/provider-utils": ["@lash/protocol"],
  "@lash/observability": ["@lash/protocol"],
  "@lash/stores": ["@lash/protocol"],
  "@lash/testkit": ["@lash/protocol", "@lash/provider-utils", "@lash/adapter-scripted"],
  "@lash/core": ["@lash/protocol", "@lash/provider-utils", "@lash/observability"],
  "@lash/background": ["@lash/protocol", "@lash/core", "@lash/observability"],
  "@lash/tools": ["@lash/protocol", "@lash/core"],
  // The RLM execution mode: a plug-in mode, so core never carries the QuickJS WebAssembly.
  "@lash/rlm": ["@lash/protocol", "@lash/core"],
  // MCP servers' tools as a ToolProvider, and a runtime served as MCP tools.
  "@lash/mcp": ["@lash/protocol", "@lash/core"],
  // The server's wire contract: clients (apps/console, third parties) import it and nothing else.
  "@lash/remote-protocol": ["@lash/protocol"],
};
/** Adapters build on the contracts and on the run-time support every adapter shares. */
const ADAPTER_EDGES = ["@lash/protocol", "@lash/provider-utils"];
const TOOLING = new Set(["@lash/tsconfig", "@lash/vitest-config", "@lash/test-infrastructure"]);
/** Dev-only packages any library may use in its tests. */
const DEV_ALLOWED = new Set(["@lash/testkit", ...TOOLING]);
/**
 * Extra dev-only edges of one package: the stores' end-to-end tests and benchmark drive real runtime
 * turns, park and resume against every backend (core never depends on stores, so there is no cycle);
 * the background host's tests run subagents and the durable host against real stores; the RLM mode's
 * restart test runs a session across two processes on the SQLite store.
 */
export const DEV_ONLY_EDGES = { "@lash/stores": ["@lash/core"], "@lash/background": ["@lash/stores"], "@lash/rlm": ["@lash/stores"] };
/** Adapters run end-to-end turns through a real runtime in their tests. */
const ADAPTER_DEV_ONLY_EDGES = ["@lash/core"];

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

function workspaceManifests(root) {
  const manifests = [];
  const add = (directory, kind) => {
    const path = join(directory, "package.json");
    if (existsSync(path)) manifests.push({ path: relative(root, path), kind, manifest: readJson(path) });
  };
  const children = (directory) =>
    existsSync(directory)
      ? readdirSync(directory, { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => join(directory, entry.name))
      : [];
  for (const directory of children(join(root, "packages"))) {
    if (directory.endsWith("adapters")) for (const adapter of children(directory)) add(adapter, "adapter");
    else add(directory, "library");
  }
  for (const directory of children(join(root, "apps"))) add(directory, "app");
  for (const directory of children(join(root, "tooling"))) add(directory, "tooling");
  add(join(root, "examples"), "example");
  return manifests;
}

function inRepoDependencies(manifest, fields) {
  const names = new Set();
  for (const field of fields) for (const name of Object.keys(manifest[field] ?? {})) if (name.startsWith("@lash/")) names.add(name);
  return [...names];
}

/** packages/<dir> is @lash/<dir>; packages/adapters/<dir> is @lash/adapter-<dir>. */
function expectedPackageName(path, kind) {
  const directory = path.split(/[\\/]/).at(-2);
  if (kind === "adapter") return `@lash/adapter-${directory}`;
  if (kind === "library") return `@lash/${directory}`;
  return undefined;
}

/** Returns the list of violations (empty when the layering holds). */
export function checkLayering(manifests) {
  const violations = [];
  const runtimeFields = ["dependencies", "peerDependencies", "optionalDependencies"];
  const appNames = new Set(manifests.filter((entry) => entry.kind === "app").map((entry) => entry.manifest.name));
  for (const { path, kind, manifest } of manifests) {
    const name = manifest.name;
    const runtime = inRepoDependencies(manifest, runtimeFields);
    const dev = inRepoDependencies(manifest, ["devDependencies"]);
    if (kind === "app" || kind === "example") continue;
    if (kind === "tooling") {
      for (const dependency of runtime) violations.push(`${path}: tooling package ${name} must not depend on ${dependency}`);
      for (const dependency of dev) {
        if (!TOOLING.has(dependency))
          violations.push(`${path}: tooling package ${name} must not depend on ${dependency}, even as a devDependency`);
      }
      continue;
    }
    const expectedName = expectedPackageName(path, kind);
    if (expectedName && name !== expectedName)
      violations.push(`${path}: the package in this directory must be named ${expectedName}, got ${name}`);
    let allowed;
    if (kind === "adapter") {
      allowed = ADAPTER_EDGES;
    } else {
      allowed = ALLOWED_EDGES[name];
      if (!allowed) {
        violations.push(
          `${path}: package ${name} is not in the dependency table (tooling/scripts/check-layering.mjs, docs/architecture.md); add it there first`,
        );
        continue;
      }
    }
    for (const dependency of runtime) {
      if (appNames.has(dependency)) violations.push(`${path}: library ${name} must not depend on the app ${dependency}`);
      else if (!allowed.includes(dependency))
        violations.push(`${path}: ${name} -> ${dependency} is not an allowed edge (allowed: ${allowed.join(", ") || "none"})`);
    }
    for (const dependency of dev) {
      const devOnly = kind === "adapter" ? ADAPTER_DEV_ONLY_EDGES : (DEV_ONLY_EDGES[name] ?? []);
      if (!DEV_ALLOWED.has(dependency) && !allowed.includes(dependency) && !devOnly.includes(dependency)) {
        violations.push(
          `${path}: ${name} -> ${dependency} (devDependency) is not allowed; only ${[...DEV_ALLOWED].join(", ")} may be dev-only edges`,
        );
      }
    }
  }
  return violations;
}

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const violations = checkLayering(workspaceManifests(root));
  if (violations.length > 0) {
    console.error(`dependency layering violated:\n${violations.map((violation) => `  - ${violation}`).join("\n")}`);
    process.exit(1);
  }
  console.log("dependency layering ok");
}

export { root as repositoryRoot, workspaceManifests };
