// A loop of lash turns for `node --cpu-prof`: one workload, with no store or the in-memory store,
// many times in one process, so a CPU profile shows where a turn spends its time (the timed table
// is `src/main.ts`). After warm-up turns it prints the wall and CPU time per turn; CPU time is the
// steadier of the two on a shared machine. `src/profile-summary.ts` prints the profile's top
// functions by self time.
//
// Environment: LASH_BENCH_PROFILE_WORKLOAD (W1 | W2, default W2), LASH_BENCH_PROFILE_STORE
// (none | memory, default none), LASH_BENCH_PROFILE_TURNS (default 20,000).
import { InMemorySessionDatabase } from "@lash/core";
import { LashTurnParts, lashTurn } from "./runtimes/lash.js";
import { WORKLOADS, type WorkloadName } from "./workload.js";

const workload = process.env.LASH_BENCH_PROFILE_WORKLOAD ?? "W2";
const storeKind = process.env.LASH_BENCH_PROFILE_STORE ?? "none";
const turns = Number(process.env.LASH_BENCH_PROFILE_TURNS ?? 20_000);
if (!WORKLOADS.includes(workload as WorkloadName)) throw new Error(`LASH_BENCH_PROFILE_WORKLOAD must be W1 or W2, got ${workload}`);
if (storeKind !== "none" && storeKind !== "memory") throw new Error(`LASH_BENCH_PROFILE_STORE must be none or memory, got ${storeKind}`);
if (!Number.isSafeInteger(turns) || turns < 1) throw new Error(`LASH_BENCH_PROFILE_TURNS must be a positive integer, got ${turns}`);

const database = storeKind === "memory" ? new InMemorySessionDatabase() : undefined;
const parts = new LashTurnParts();
const turn = (sessionId: string) => lashTurn(workload as WorkloadName, sessionId, database?.openSession(sessionId), parts);

for (let index = 0; index < Math.min(500, turns); index += 1) await turn(`warmup-${index}`);
const cpuBefore = process.cpuUsage();
const started = performance.now();
for (let index = 0; index < turns; index += 1) await turn(`profiled-${index}`);
const elapsed = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${workload}, store ${storeKind}: ${((elapsed * 1000) / turns).toFixed(1)} µs wall and ${((cpu.user + cpu.system) / turns).toFixed(1)} µs CPU per turn over ${turns} turns\n`,
);
