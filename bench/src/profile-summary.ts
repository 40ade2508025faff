// Prints the functions with the most self time in a V8 CPU profile (`node --cpu-prof` output):
// `node --import tsx src/profile-summary.ts <file.cpuprofile | folder> [rows] [skipped fraction]`.
// A folder means its newest profile. The first part of the profile (default 20%) is left out: it
// is module loading and warm-up, not turns.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

async function profilePath(argument: string): Promise<string> {
  if (!(await stat(argument)).isDirectory()) return argument;
  const files = (await readdir(argument)).filter((name) => name.endsWith(".cpuprofile"));
  const dated = await Promise.all(files.map(async (name) => ({ name, time: (await stat(join(argument, name))).mtimeMs })));
  const newest = dated.sort((left, right) => right.time - left.time)[0];
  if (newest === undefined) throw new Error(`no .cpuprofile in ${argument}`);
  return join(argument, newest.name);
}

/** `function file`, with the path shortened to what follows the repository or `node_modules`. */
function label(node: ProfileNode): string {
  const file = node.callFrame.url
    .replace(/^.*\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, "")
    .replace(/^file:\/\/.*?\/(packages|bench|apps)\//, "$1/");
  return `${node.callFrame.functionName || "(anonymous)"} ${file}`.trim();
}

const [argument, rowsArgument, skipArgument] = process.argv.slice(2);
if (argument === undefined) throw new Error("usage: profile-summary.ts <file.cpuprofile | folder> [rows] [skipped fraction]");
const path = await profilePath(argument);
const profile = JSON.parse(await readFile(path, "utf8")) as CpuProfile;
const rows = Number(rowsArgument ?? 30);
const skipped = Number(skipArgument ?? 0.2);
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const selfTime = new Map<string, number>();
const from = profile.startTime + skipped * (profile.endTime - profile.startTime);
let time = profile.startTime;
let total = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  time += delta;
  const node = nodes.get(id);
  if (time < from || node === undefined) return;
  total += delta;
  const key = label(node);
  selfTime.set(key, (selfTime.get(key) ?? 0) + delta);
});
process.stdout.write(`${path}: self time, ${Math.round(total / 1000)} ms after the first ${Math.round(skipped * 100)}%\n`);
for (const [key, value] of [...selfTime].sort((left, right) => right[1] - left[1]).slice(0, rows)) {
  process.stdout.write(`${((100 * value) / total).toFixed(1).padStart(5)}%  ${key}\n`);
}
