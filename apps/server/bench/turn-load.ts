// The load generator: concurrent sessions, each running W1 turns back to back over loopback SSE,
// every turn's stream read to its end and checked, every turn timed.
import http from "node:http";
import { performance } from "node:perf_hooks";
import { checkW1Stream } from "./w1-workload.js";

/** One cell of the table: a side at one concurrency. */
export interface LoadResult {
  readonly turns: number;
  readonly seconds: number;
  /** Turn latencies in milliseconds, ascending. */
  readonly latencies: readonly number[];
}

/** Keep-alive connections, as a client that runs many turns keeps them (no limit: one per concurrent session). */
const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

function post(url: string, body: string, accept: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), accept },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** Creates a session; the bare handler answers with an id too. */
export async function createBenchSession(baseUrl: string): Promise<string> {
  const created = await post(`${baseUrl}/v1/sessions`, "{}", "application/json");
  if (created.status !== 201) throw new Error(`creating a session failed: ${created.status} ${created.text.slice(0, 200)}`);
  return (JSON.parse(created.text) as { id: string }).id;
}

/** Runs one W1 turn over SSE, reads its stream to the end, checks it; resolves with its latency in milliseconds. */
async function timedTurn(baseUrl: string, sessionId: string): Promise<number> {
  const started = performance.now();
  const answer = await post(`${baseUrl}/v1/sessions/${sessionId}/turns`, '{"input":"Go"}', "text/event-stream");
  const latency = performance.now() - started;
  if (answer.status !== 200) throw new Error(`turn failed: ${answer.status} ${answer.text.slice(0, 200)}`);
  const problem = checkW1Stream(answer.text);
  if (problem !== undefined) throw new Error(`the turn did not do W1's work: ${problem}`);
  return latency;
}

/**
 * `concurrency` clients at once, `turns` turns in all (or as many as fit in `maxSeconds`); every
 * client keeps to one session at a time and starts its next turn when the last one's stream ended. The sessions are created
 * first (not timed): a conversation of a few turns, since a session's history grows with each
 * turn and thousands of turns in one session would measure a 10,000-message prompt instead.
 */
export async function runLoad(
  baseUrl: string,
  options: { readonly concurrency: number; readonly turns: number; readonly maxSeconds: number },
): Promise<LoadResult> {
  const turnsPerClient = Math.max(1, Math.round(options.turns / options.concurrency));
  const sessionsPerClient = Math.ceil(turnsPerClient / TURNS_PER_SESSION);
  const sessions: string[][] = [];
  for (let client = 0; client < options.concurrency; client += 1) {
    const own: string[] = [];
    for (let index = 0; index < sessionsPerClient; index += 1) own.push(await createBenchSession(baseUrl));
    sessions.push(own);
  }
  const latencies: number[] = [];
  const started = performance.now();
  // A slow side stops at the time cap with the turns it managed: the run stays within its budget.
  const deadline = started + options.maxSeconds * 1000;
  await Promise.all(
    sessions.map(async (own) => {
      for (let turn = 0; turn < turnsPerClient && performance.now() < deadline; turn += 1) {
        latencies.push(await timedTurn(baseUrl, own[Math.floor(turn / TURNS_PER_SESSION)] ?? ""));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((left, right) => left - right);
  return { turns: latencies.length, seconds, latencies };
}

/** How many turns a bench session holds before its client moves on to its next one. */
export const TURNS_PER_SESSION = 10;

/** The latency at `fraction` of the sorted sample. */
export function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}
