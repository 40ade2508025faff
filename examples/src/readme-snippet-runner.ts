// Runs the code blocks of the READMEs the way a reader would, so that they stay true.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const repository = fileURLToPath(new URL("../..", import.meta.url));
const examples = fileURLToPath(new URL("..", import.meta.url));

/** The first ```ts block after `heading` in a README: what a reader copies. */
export async function snippetAfter(readme: string, heading: string): Promise<string> {
  const text = await readFile(join(repository, readme), "utf8");
  const from = text.indexOf(heading);
  if (from < 0) throw new Error(`${readme} has no heading ${heading}`);
  const match = /```ts\n([\s\S]*?)```/.exec(text.slice(from));
  if (!match?.[1]) throw new Error(`${readme} has no ts block after ${heading}`);
  return match[1];
}

/**
 * Runs a snippet as a reader would: as a file of its own (placed under `examples/` so that it
 * resolves the packages), from an empty working directory (or `workingDirectory`, to run it again
 * where it ran before), with `env` added to the environment.
 */
export async function runSnippet(
  code: string,
  options: { readonly env?: NodeJS.ProcessEnv; readonly workingDirectory?: string } = {},
): Promise<{ stdout: string; workingDirectory: string }> {
  const folder = await mkdtemp(join(examples, ".readme-snippet-"));
  const workingDirectory = options.workingDirectory ?? (await mkdtemp(join(tmpdir(), "lash-readme-snippet-")));
  try {
    const file = join(folder, "snippet.ts");
    await writeFile(file, code);
    const { stdout } = await run(join(repository, "node_modules", ".bin", "tsx"), ["--conditions=@lash/source", file], {
      cwd: workingDirectory,
      encoding: "utf8",
      env: { ...process.env, ...options.env },
    });
    return { stdout, workingDirectory };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
