// Memory of idle sessions: 10,000 sessions on one server (in this process, a SQLite file), each of
// which ran one W1 turn and went idle. Prints the heap they cost, per session, with the pool's
// default bounds (the 1,024 most recently used live, the rest parked), with every one parked, and
// with all of them held live, so the price of a parked session and of a live one are in one table.
// Run with --expose-gc (pnpm bench does).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServerApp, DEFAULT_SERVER_LIMITS, openServerStore } from "../src/index.js";
import { w1Provider } from "./w1-workload.js";

const SESSIONS = process.env.LASH_BENCH_QUICK === "1" ? 1_000 : 10_000;

function collect(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  for (let round = 0; round < 3; round += 1) gc();
  return process.memoryUsage().heapUsed;
}

async function json(app: ReturnType<typeof createServerApp>, path: string, body: unknown): Promise<unknown> {
  const response = await app.fetch(
    new Request(`http://bench${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  );
  if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function measure(maxLiveRuntimes: number): Promise<{ perSession: number; live: number; parked: number }> {
  const directory = await mkdtemp(join(tmpdir(), "lash-idle-bench-"));
  const store = await openServerStore(`sqlite:${join(directory, "lash.db")}`);
  try {
    const server = createServerApp({ store, profiles: { default: { provider: w1Provider() } }, limits: { maxLiveRuntimes } });
    // One session first, so code, caches and the profile's environment are in the baseline.
    const warm = (await json(server, "/v1/sessions", {})) as { id: string };
    await json(server, `/v1/sessions/${warm.id}/turns`, { input: "warm up" });
    const before = collect();
    for (let index = 0; index < SESSIONS; index += 1) {
      const { id } = (await json(server, "/v1/sessions", { metadata: { index: String(index) } })) as { id: string };
      await json(server, `/v1/sessions/${id}/turns`, { input: `Session ${index}: run W1.` });
    }
    const after = collect();
    const stats = server.stats();
    return { perSession: (after - before) / SESSIONS, live: stats.liveRuntimes, parked: stats.parkedSessions };
  } finally {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  }
}

const defaults = await measure(DEFAULT_SERVER_LIMITS.maxLiveRuntimes);
const parked = await measure(0);
const live = await measure(SESSIONS + 1);
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;
console.log(`\n${SESSIONS} idle sessions (one W1 turn each), SQLite file, heap after GC, in one run:\n`);
console.log("| pool | live runtimes | parked sessions | heap per idle session | for all of them |");
console.log("| --- | --: | --: | --: | --: |");
for (const [name, result] of [
  [`default bounds (${DEFAULT_SERVER_LIMITS.maxLiveRuntimes.toLocaleString("en")} live, the rest parked)`, defaults],
  ["all parked (maxLiveRuntimes 0)", parked],
  ["all live (maxLiveRuntimes above the count)", live],
] as const) {
  console.log(
    `| ${name} | ${result.live} | ${result.parked} | ${kib(result.perSession)} | ${((result.perSession * SESSIONS) / 1024 / 1024).toFixed(1)} MiB |`,
  );
}
console.log(`\nparked / live: ${(parked.perSession / live.perSession).toFixed(2)}x`);
