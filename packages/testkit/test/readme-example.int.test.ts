import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/*
 * The third-party adapter of the README ("Model provider conformance suite"), run the way a user
 * runs it: from the packed packages, installed with npm in a project of its own, typechecked
 * against the published declarations, and tested with vitest there.
 */

const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
const testkitDirectory = fileURLToPath(new URL("../", import.meta.url));

/** What the example installs from tarballs: the packages it imports, and what those depend on. */
const PACKED_PACKAGES = ["packages/protocol", "packages/provider-utils", "packages/adapters/scripted", "packages/testkit"];

/** The README files the example consists of, each a `ts` block whose first line names it. */
const EXAMPLE_FILES = ["my-chat-provider.ts", "my-chat-provider.conformance.test.ts"];

/** npm with a bounded wait and no interaction; the registry is only asked for what the cache lacks. */
const NPM_INSTALL = ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

interface VitestReport {
  readonly success: boolean;
  readonly numTotalTests: number;
  readonly numPassedTests: number;
  readonly numFailedTests: number;
  readonly testResults: readonly {
    readonly assertionResults: readonly { readonly fullName: string; readonly status: string; readonly failureMessages: string[] }[];
  }[];
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/** The version a package of the repository pins for `name` in its devDependencies. */
function pinnedVersion(packageJsonPath: string, name: string): string {
  const devDependencies = readJson(packageJsonPath).devDependencies as Record<string, string> | undefined;
  const version = devDependencies?.[name];
  if (version === undefined) throw new Error(`${packageJsonPath} pins no version of ${name}`);
  return version;
}

/** The example's files, cut out of the README's code blocks. */
function exampleFromReadme(): Map<string, string> {
  const readme = readFileSync(join(testkitDirectory, "README.md"), "utf8");
  const files = new Map<string, string>();
  for (const match of readme.matchAll(/```ts\n\/\/ ([\w.-]+\.ts)\n([\s\S]*?)```/g)) {
    const [, name, body] = match;
    if (name !== undefined && body !== undefined && EXAMPLE_FILES.includes(name)) files.set(name, `// ${name}\n${body}`);
  }
  return files;
}

function run(command: string, args: readonly string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" } });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${failed.stdout ?? ""}\n${failed.stderr ?? failed.message}`);
  }
}

/** Packs one workspace package (building it first when its `dist` is missing) and returns the tarball. */
function pack(packageDirectory: string, destination: string): string {
  const directory = join(repositoryRoot, packageDirectory);
  if (!existsSync(join(directory, "dist", "index.js"))) run("pnpm", ["exec", "tsup"], directory);
  const before = new Set(readdirSync(destination));
  run("pnpm", ["pack", "--pack-destination", destination], directory);
  const tarball = readdirSync(destination).find((file) => file.endsWith(".tgz") && !before.has(file));
  if (tarball === undefined) throw new Error(`pnpm pack wrote no tarball for ${packageDirectory}`);
  return join(destination, tarball);
}

describe("the third-party adapter example of the testkit README", () => {
  it("passes the provider conformance suite from packed tarballs", { timeout: 600_000 }, () => {
    const files = exampleFromReadme();
    expect([...files.keys()].sort()).toEqual([...EXAMPLE_FILES].sort());
    const workspace = mkdtempSync(join(tmpdir(), "lash-readme-example-"));
    try {
      const tarballs = join(workspace, "tarballs");
      const project = join(workspace, "project");
      mkdirSync(tarballs);
      mkdirSync(join(project, "src"), { recursive: true });
      const dependencies: Record<string, string> = {};
      for (const directory of PACKED_PACKAGES) {
        const name = readJson(join(repositoryRoot, directory, "package.json")).name as string;
        dependencies[name] = `file:${pack(directory, tarballs)}`;
      }
      const testkitPackage = join(testkitDirectory, "package.json");
      const rootPackage = join(repositoryRoot, "package.json");
      dependencies.zod = pinnedVersion(testkitPackage, "zod");
      writeFileSync(
        join(project, "package.json"),
        JSON.stringify({
          name: "lash-readme-example",
          private: true,
          type: "module",
          dependencies,
          devDependencies: {
            vitest: pinnedVersion(testkitPackage, "vitest"),
            typescript: pinnedVersion(rootPackage, "typescript"),
            "@types/node": pinnedVersion(rootPackage, "@types/node"),
          },
        }),
      );
      writeFileSync(
        join(project, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            target: "es2023",
            module: "nodenext",
            moduleResolution: "nodenext",
            noEmit: true,
            types: ["node"],
          },
          include: ["src"],
        }),
      );
      for (const [name, source] of files) writeFileSync(join(project, "src", name), source);

      run("npm", NPM_INSTALL, project);
      run(join(project, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], project);
      const reportPath = join(project, "vitest-report.json");
      try {
        run(join(project, "node_modules", ".bin", "vitest"), ["run", "--reporter=json", `--outputFile=${reportPath}`], project);
      } catch (error) {
        // A failing suite exits non-zero: the report below says which test failed.
        if (!existsSync(reportPath)) throw error;
      }
      const report = readJson(reportPath) as unknown as VitestReport;
      const results = report.testResults.flatMap((file) => file.assertionResults);
      const failed = results.filter((result) => result.status === "failed");
      expect(failed.map((result) => `${result.fullName}: ${result.failureMessages.join("\n")}`)).toEqual([]);
      expect(report.success).toBe(true);
      expect(report.numFailedTests).toBe(0);
      expect(report.numPassedTests).toBeGreaterThan(0);
      expect(results.some((result) => result.fullName.includes("ModelProvider conformance: my Chat Completions adapter"))).toBe(true);
      expect(results.some((result) => result.fullName.includes("openai-compatible.chat-tool-call-split-stream"))).toBe(true);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
