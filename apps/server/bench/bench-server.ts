// One side of the server bench, in a process of its own (so the load generator never shares its
// event loop): `bare` (a Hono handler that streams W1's 10 deltas over SSE: the ceiling), `memory`
// or `sqlite` (lash-server on the `memory:` store or a SQLite file, W1 from a scripted provider).
// Prints "listening on <url>" once it answers; SIGTERM stops it.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
// By the package's own name: the sources under the "@lash/source" condition, the built `dist`
// without it (LASH_BENCH_BUILT=1 in run.ts), as an installed server would run.
import { openServerStore, startServer } from "@lash/server";
import { Hono } from "hono";
import { W1_DELTAS, w1Provider } from "./w1-workload.js";

const encoder = new TextEncoder();

function frame(id: number, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The ceiling: what any server must do for a W1 turn over SSE and nothing more. It reads and
 * parses the JSON body, then streams a `turn` event, the 10 deltas as `activity` events shaped
 * like lash's, and a `result`, each frame serialized when it is sent.
 */
function bareApp(): Hono {
  const app = new Hono();
  app.post("/v1/sessions", (c) => c.json({ id: randomUUID() }, 201));
  app.post("/v1/sessions/:sessionId/turns", async (c) => {
    const body = (await c.req.json()) as { input?: unknown };
    if (typeof body.input !== "string") return c.json({ error: { code: "invalid_request", message: "input" } }, 400);
    const sessionId = c.req.param("sessionId");
    const turnId = randomUUID();
    let index = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (index === 0) controller.enqueue(encoder.encode(frame(1, "turn", { turnId, sessionId, resumed: false })));
        else if (index <= W1_DELTAS.length) {
          const text = W1_DELTAS[index - 1];
          controller.enqueue(
            encoder.encode(frame(index + 1, "activity", { id: randomUUID(), correlationId: turnId, type: "text_delta", text })),
          );
        } else {
          const text = W1_DELTAS.join("").trim();
          controller.enqueue(
            encoder.encode(
              frame(index + 1, "result", {
                turnId,
                sessionId,
                outcome: { type: "finished", finish: { type: "assistant_message", text } },
                answer: { text, state: "usable" },
                usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 0, reasoningTokens: 0 },
              }),
            ),
          );
          controller.close();
        }
        index += 1;
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" } });
  });
  return app;
}

const side = process.argv[2];
let stop: () => Promise<void>;
if (side === "bare") {
  const app = bareApp();
  const url = await new Promise<string>((resolve) => {
    const listening = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => resolve(`http://127.0.0.1:${info.port}`));
    stop = () => new Promise((done) => listening.close(() => done()));
  });
  process.stdout.write(`listening on ${url}\n`);
} else if (side === "memory" || side === "sqlite") {
  const directory = side === "sqlite" ? await mkdtemp(join(tmpdir(), "lash-server-bench-")) : undefined;
  const store = await openServerStore(directory === undefined ? "memory:" : `sqlite:${join(directory, "bench.db")}`);
  const running = await startServer({ store, port: 0, profiles: { default: { provider: w1Provider() } }, gracePeriodMs: 0 });
  stop = async () => {
    await running.close();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  };
  process.stdout.write(`listening on ${running.url}\n`);
} else {
  process.stderr.write(`unknown side ${String(side)}: use bare, memory or sqlite\n`);
  process.exit(2);
}
process.once("SIGTERM", () => {
  stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
