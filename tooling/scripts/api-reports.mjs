#!/usr/bin/env node
// API reports: for every entry point (`exports` subpath) of every published package, API Extractor
// reads the built declaration file (`dist/**/*.d.ts`, so run `pnpm build` first) and writes the
// public surface to `<package>/api/<name>[.<subpath>].api.md`. The reports are committed, so every
// change to a public signature shows up in review. `--update` rewrites them; without it, the script
// fails when a report differs from what is committed and names the package and entry point.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor";
import { workspaceManifests } from "./check-layering.mjs";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");

/** The published packages and their entry points: `{ name, directory, entries: [{ subpath, types }] }`. */
export function publishedEntryPoints(repositoryRoot = root) {
  const packages = [];
  for (const { path, manifest } of workspaceManifests(repositoryRoot)) {
    if (manifest.private === true || manifest.exports === undefined) continue;
    const entries = [];
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target !== "object" || target === null || typeof target.types !== "string") continue;
      entries.push({ subpath, types: target.types });
    }
    if (entries.length > 0) packages.push({ name: manifest.name, directory: join(repositoryRoot, dirname(path)), entries });
  }
  return packages;
}

/** `@lash/stores` + `./sql` -> `stores.sql`; the root entry is the unscoped name alone. */
export function reportName(packageName, subpath) {
  const unscoped = packageName.replace(/^@[^/]+\//, "");
  const suffix = subpath === "." ? "" : `.${subpath.replace(/^\.\//, "").replaceAll("/", "-")}`;
  return `${unscoped}${suffix}`;
}

function extractorConfig(entryPackage, entry, temporaryFolder) {
  const name = reportName(entryPackage.name, entry.subpath);
  const packageJsonFullPath = join(entryPackage.directory, "package.json");
  return ExtractorConfig.prepare({
    packageJsonFullPath,
    configObjectFullPath: undefined,
    configObject: {
      projectFolder: entryPackage.directory,
      mainEntryPointFilePath: join(entryPackage.directory, entry.types),
      bundledPackages: [],
      newlineKind: "lf",
      enumMemberOrder: "by-name",
      compiler: {
        // The consumer's view: packages resolve to their built declarations, no source condition.
        overrideTsconfig: {
          compilerOptions: {
            target: "ES2022",
            lib: ["ES2023"],
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            skipLibCheck: true,
            types: ["node"],
          },
        },
        skipLibCheck: true,
      },
      apiReport: {
        enabled: true,
        reportFileName: `${name}.api.md`,
        reportFolder: join(entryPackage.directory, "api"),
        reportTempFolder: temporaryFolder,
        includeForgottenExports: false,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: "error" } },
        extractorMessageReporting: {
          default: { logLevel: "none" },
          // A type used by a public signature but not exported: noted in the report, not fatal.
          "ae-forgotten-export": { logLevel: "none", addToApiReportFile: true },
          "ae-wrong-input-file-type": { logLevel: "error" },
        },
        // Doc comments are prose for readers, not TSDoc: their syntax is not checked here.
        tsdocMessageReporting: { default: { logLevel: "none" } },
      },
    },
  });
}

/** Runs API Extractor on every entry point; returns the problems (empty when every report matches). */
export function runApiReports({ update = false, repositoryRoot = root } = {}) {
  const problems = [];
  const temporaryFolder = mkdtempSync(join(tmpdir(), "lash-api-"));
  try {
    for (const entryPackage of publishedEntryPoints(repositoryRoot)) {
      mkdirSync(join(entryPackage.directory, "api"), { recursive: true });
      for (const entry of entryPackage.entries) {
        const label = `${entryPackage.name}${entry.subpath === "." ? "" : entry.subpath.slice(1)}`;
        if (!existsSync(join(entryPackage.directory, entry.types))) {
          problems.push(`${label}: ${entry.types} does not exist (run \`pnpm build\` first)`);
          continue;
        }
        const messages = [];
        const result = Extractor.invoke(extractorConfig(entryPackage, entry, temporaryFolder), {
          localBuild: update,
          messageCallback: (message) => {
            if (message.logLevel === "error") messages.push(message.formatMessageWithLocation(entryPackage.directory));
            message.handled = true;
          },
        });
        if (!result.succeeded || result.apiReportChanged) {
          const reportPath = join("api", `${reportName(entryPackage.name, entry.subpath)}.api.md`);
          const detail = messages.length > 0 ? messages.join("; ") : `its public API differs from ${reportPath}`;
          if (!update || messages.length > 0) problems.push(`${label}: ${detail}`);
        }
      }
    }
  } finally {
    rmSync(temporaryFolder, { recursive: true, force: true });
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const update = process.argv.includes("--update");
  const problems = runApiReports({ update });
  if (problems.length > 0) {
    console.error(
      `API reports:\n${problems.map((problem) => `  - ${problem}`).join("\n")}\n` +
        (update ? "" : "If the change is intended, run `pnpm api:update` and commit the reports with it.\n"),
    );
    process.exit(1);
  }
  const reportFiles = publishedEntryPoints().flatMap((entryPackage) => entryPackage.entries);
  console.log(
    update ? `API reports written (${reportFiles.length} entry points)` : `API reports match (${reportFiles.length} entry points)`,
  );
}
