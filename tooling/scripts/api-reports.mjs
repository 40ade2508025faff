#!/usr/bin/env node
// API reports: for every entry point (`exports` subpath) of every published package, API Extractor
// reads the package's declarations and writes the public surface to
// `<package>/api/<name>[.<subpath>].api.md`. The reports are committed, so every change to a public
// signature shows up in review. `--update` rewrites them; without it, the script fails when a report
// differs from what is committed and names the package and entry point.
//
// The declarations are emitted here with `tsc` (one program, files in sorted order), not taken from
// the bundled `dist/*.d.ts`: the bundler resolves files asynchronously, and the order in which the
// checker first meets a type decides how inferred types print (the members of a `z.ZodEnum<{...}>`),
// so the same sources could print two ways. The other packages' types come from their `dist`, so
// run `pnpm build` first.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor";
import { workspaceManifests } from "./check-layering.mjs";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
/** Where a package's declarations are emitted for the report (ignored by git, removed afterwards). */
const DECLARATIONS_FOLDER = ".api-declarations";

/** The published packages and their entry points: `{ name, directory, entries: [{ subpath, source }] }`. */
export function publishedEntryPoints(repositoryRoot = root) {
  const packages = [];
  for (const { path, manifest } of workspaceManifests(repositoryRoot)) {
    if (manifest.private === true || manifest.exports === undefined) continue;
    const entries = [];
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target !== "object" || target === null || typeof target["@lash/source"] !== "string") continue;
      entries.push({ subpath, source: target["@lash/source"] });
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

/** Emits the declarations of one package's `src` into `outDir` (the build's tsconfig, no bundling). */
function emitDeclarations(entryPackage, outDir) {
  const tsc = join(root, "node_modules", ".bin", "tsc");
  const args = ["-p", "tsconfig.build.json", "--emitDeclarationOnly", "--declaration", "--declarationMap", "false", "--sourceMap", "false"];
  return new Promise((resolve, reject) => {
    execFile(tsc, [...args, "--rootDir", "src", "--outDir", outDir], { cwd: entryPackage.directory }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve();
    });
  });
}

/**
 * Emits every package's declarations, as many `tsc` processes at once as the machine has cores
 * (each is one single-threaded program, and they were most of this script's time one after
 * another); resolves with each package's failure, if any, by package name.
 */
async function emitAllDeclarations(packages) {
  const failures = new Map();
  let next = 0;
  const worker = async () => {
    while (next < packages.length) {
      const entryPackage = packages[next];
      next += 1;
      const declarations = join(entryPackage.directory, DECLARATIONS_FOLDER);
      rmSync(declarations, { recursive: true, force: true });
      try {
        await emitDeclarations(entryPackage, declarations);
      } catch (error) {
        failures.set(entryPackage.name, error);
        rmSync(declarations, { recursive: true, force: true });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, worker));
  return failures;
}

/** `./src/sql/index.ts` -> `<declarations>/sql/index.d.ts`. */
function declarationPath(declarations, source) {
  return join(declarations, source.replace(/^\.\/src\//, "").replace(/\.ts$/, ".d.ts"));
}

function extractorConfig(entryPackage, entry, declarations, temporaryFolder) {
  const name = reportName(entryPackage.name, entry.subpath);
  const packageJsonFullPath = join(entryPackage.directory, "package.json");
  return ExtractorConfig.prepare({
    packageJsonFullPath,
    configObjectFullPath: undefined,
    configObject: {
      projectFolder: entryPackage.directory,
      mainEntryPointFilePath: declarationPath(declarations, entry.source),
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
export async function runApiReports({ update = false, repositoryRoot = root } = {}) {
  const problems = [];
  const temporaryFolder = mkdtempSync(join(tmpdir(), "lash-api-"));
  const packages = publishedEntryPoints(repositoryRoot);
  try {
    const failures = await emitAllDeclarations(packages);
    for (const entryPackage of packages) {
      mkdirSync(join(entryPackage.directory, "api"), { recursive: true });
      // Inside the package, so that notes in a report name the file relative to it, the same on every machine.
      const declarations = join(entryPackage.directory, DECLARATIONS_FOLDER);
      const failure = failures.get(entryPackage.name);
      if (failure !== undefined) {
        const output = `${failure.stdout ?? ""}${failure.stderr ?? ""}`.trim().split("\n").slice(0, 5).join("; ");
        problems.push(`${entryPackage.name}: its declarations do not compile: ${output || failure.message}`);
        continue;
      }
      for (const entry of entryPackage.entries) {
        const label = `${entryPackage.name}${entry.subpath === "." ? "" : entry.subpath.slice(1)}`;
        const messages = [];
        const result = Extractor.invoke(extractorConfig(entryPackage, entry, declarations, temporaryFolder), {
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
      rmSync(declarations, { recursive: true, force: true });
    }
  } finally {
    // A package skipped above (or a failure part way) leaves no declarations behind either.
    for (const entryPackage of packages) rmSync(join(entryPackage.directory, DECLARATIONS_FOLDER), { recursive: true, force: true });
    rmSync(temporaryFolder, { recursive: true, force: true });
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const update = process.argv.includes("--update");
  const problems = await runApiReports({ update });
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
