import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { LashResult } from "./run-lash.js";
import { startLash, temporaryDirectory } from "./run-lash.js";

/** A loopback server that handles every request with `handler` and counts them. */
async function startServer(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{
  baseUrl: string;
  requests: () => number;
  close: () => Promise<void>;
}> {
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests += 1;
    // Read the body, so the request is complete from the client's side; then do what the test wants.
    request.resume();
    request.once("end", () => handler(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests: () => requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Runs `lash run` against the server, killing it if it is still running after a guard far above
 * what the test needs (with the defaults it would wait up to 20 minutes): the test asserts how
 * the run ends, never how fast.
 */
async function runAgainst(baseUrl: string, flags: readonly string[], env: Record<string, string> = {}): Promise<LashResult> {
  const home = await temporaryDirectory();
  const started = startLash(["run", "--provider", "openai", "--base-url", baseUrl, "--model", "local-model", ...flags, "hi"], home, {
    env,
  });
  const guard = setTimeout(() => started.child.kill("SIGKILL"), 50_000);
  try {
    return await started.result;
  } finally {
    clearTimeout(guard);
  }
}

describe.concurrent("provider timeouts against a stalled loopback server", () => {
  it("--request-timeout: a server that never answers ends the run with the timeout failure", { timeout: 90_000 }, async () => {
    const server = await startServer(() => undefined);
    try {
      const result = await runAgainst(server.baseUrl, ["--request-timeout", "0.3"]);
      expect(result.stderr).toContain("lash: stopped: the model provider failed");
      expect(result.stderr).toMatch(/timed out|timeout/i);
      expect(result.code).toBe(1);
      expect(server.requests()).toBeGreaterThanOrEqual(1);
    } finally {
      await server.close();
    }
  });

  it("--chunk-timeout (here from LASH_CHUNK_TIMEOUT): a stream that stalls midway ends the run with the timeout failure", {
    timeout: 90_000,
  }, async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant", content: "Partial" } }] })}\n\n`);
      // ... and nothing more: the connection stays open, silent.
    });
    try {
      const result = await runAgainst(server.baseUrl, [], { LASH_CHUNK_TIMEOUT: "0.3" });
      expect(result.stderr).toContain("lash: stopped: the model provider failed");
      expect(result.stderr).toMatch(/timed out|timeout/i);
      expect(result.code).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("--help states both flags with their defaults; lash config shows them with their sources", async () => {
    const home = await temporaryDirectory();
    const help = await startLash(["run", "--help"], home).result;
    // Commander wraps the descriptions to the width of the output: compare with the spaces folded.
    const text = help.stdout.replace(/\s+/g, " ");
    expect(text).toContain(
      "--request-timeout <seconds> give up on a model call whose response has not started after this long; 0 = never (default 300;",
    );
    expect(text).toContain("--chunk-timeout <seconds> give up on a streamed response that stays silent this long; 0 = never (default 120;");
    const config = await startLash(["config", "--json", "--request-timeout", "0"], home, { env: { LASH_CHUNK_TIMEOUT: "2.5" } }).result;
    expect(JSON.parse(config.stdout).settings).toMatchObject({
      requestTimeoutSeconds: { value: 0, source: "flag --request-timeout" },
      chunkTimeoutSeconds: { value: 2.5, source: "env LASH_CHUNK_TIMEOUT" },
    });
  });
});
