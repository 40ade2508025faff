// A child process of the benchmark, run under `strace -c` to count the fsync and fdatasync calls
// of W2 turns: `fsync-probe.ts <store|floor> <turns> <folder>`. The benchmark runs it with 0 turns
// and with N turns and divides the difference by N, so the setup (migrations, the recorded turn)
// cancels out.
import { join } from "node:path";
import { rawFloorSide, recordW2Commits, sqliteTurnSide, type TurnSide } from "./turn-bench.js";

const [side, turnsArgument, folder] = process.argv.slice(2);
const turns = Number(turnsArgument);
if ((side !== "store" && side !== "floor") || !Number.isInteger(turns) || folder === undefined) {
  throw new Error("usage: fsync-probe.ts <store|floor> <turns> <folder>");
}
const commits = await recordW2Commits(join(folder, "recorded.db"));
const running: TurnSide =
  side === "store" ? await sqliteTurnSide(join(folder, "store.db")) : await rawFloorSide(join(folder, "floor.db"), commits);
for (let index = 0; index < turns; index += 1) await running.turn(index);
await running.finish(turns);
