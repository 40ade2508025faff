#!/usr/bin/env node
// Checks every published package the way users get it: `pnpm pack` (workspace versions filled in,
// only the `files` that ship), then publint on the tarball (exports, files, formats) and Are The
// Types Wrong (`attw`: do the types resolve under Node's ESM resolution and in bundlers). Run
// `pnpm build` first. Prints each problem with its package; exits non-zero when there is one.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { workspaceManifests } from "./check-layering.mjs";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
const attw = join(root, "node_modules", ".bin", "attw");

/** The workspace packages that are published (not `private`). */
export function publishedPackages(repositoryRoot = root) {
  return workspaceManifests(repositoryRoot)
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ path, manifest }) => ({ name: manifest.name, directory: join(repositoryRoot, dirname(path)), manifest }));
}

function pack(directory, destination) {
  execFileSync("pnpm", ["pack", "--pack-destination", destination], { cwd: directory, stdio: ["ignore", "ignore", "pipe"] });
  const tarball = readdirSync(destination).find((file) => file.endsWith(".tgz"));
  if (tarball === undefined) throw new Error(`pnpm pack wrote no tarball in ${destination}`);
  return join(destination, tarball);
}

/** Problems of the attw report: every entry point, every resolution mode an ESM-only package supports. */
function typeProblems(tarball) {
  try {
    execFileSync(attw, [tarball, "--profile", "esm-only", "--format", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return [];
  } catch (error) {
    const output = typeof error.stdout === "string" ? error.stdout : "";
    let report;
    try {
      report = JSON.parse(output);
    } catch {
      return [`attw failed: ${(error.stderr || error.message || "").toString().trim().split("\n")[0]}`];
    }
    const problems = report.analysis?.problems ?? [];
    if (problems.length === 0) return [`attw failed without naming a problem`];
    return problems.map(
      (problem) =>
        `types: ${problem.kind}${problem.entrypoint ? ` at ${problem.entrypoint}` : ""}${problem.resolutionKind ? ` (${problem.resolutionKind})` : ""}`,
    );
  }
}

/** Packs and checks one package; returns its problems as `package: problem` lines. */
export async function checkPackage(entry) {
  const destination = mkdtempSync(join(tmpdir(), "lash-pack-"));
  try {
    const tarball = pack(entry.directory, destination);
    const { messages, pkg } = await publint({
      pack: { tarball: new Uint8Array(readFileSync(tarball)).buffer },
      level: "warning",
      strict: true,
    });
    const lint = messages.map((message) => `publint ${message.type}: ${formatMessage(message, pkg, { color: false }) ?? message.code}`);
    return [...lint, ...typeProblems(tarball)].map((problem) => `${entry.name}: ${problem}`);
  } finally {
    rmSync(destination, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const packages = publishedPackages();
  const problems = (await Promise.all(packages.map(checkPackage))).flat();
  if (problems.length > 0) {
    console.error(`package checks (pack + publint + attw):\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    process.exit(1);
  }
  console.log(`packages ok: ${packages.length} packed and checked with publint and attw`);
}
