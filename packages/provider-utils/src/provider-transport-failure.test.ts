import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ProviderCallError } from "@lash/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { classifyProviderFailure } from "./provider-failure-classifier.js";
import { callerAbortError, providerFailureFromTransport } from "./provider-transport-failure.js";

const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function caught(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe("providerFailureFromTransport", () => {
  it("classifies a refused connection as a retryable transport failure", async () => {
    const server = createServer();
    const baseUrl = await listen(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await caught(() => fetch(baseUrl));
    const failure = providerFailureFromTransport(error);
    expect(failure).toMatchObject({ kind: "transport", retryable: true, code: "ECONNREFUSED" });
    expect(failure.message).toContain("fetch failed");
    expect(failure.message).toContain("ECONNREFUSED");
  });

  it("classifies a socket dropped before the response as a retryable transport failure", async () => {
    const baseUrl = await listen(createServer((request) => request.socket.destroy()));
    const failure = providerFailureFromTransport(await caught(() => fetch(baseUrl)));
    expect(failure).toMatchObject({ kind: "transport", retryable: true });
  });

  it("classifies a body dropped mid-stream as a retryable transport failure", async () => {
    const baseUrl = await listen(
      createServer((request, response) => {
        response.writeHead(200, { "content-type": "text/event-stream" });
        response.write('data: {"partial":', () => setImmediate(() => request.socket.destroy()));
      }),
    );
    const response = await fetch(baseUrl);
    const failure = providerFailureFromTransport(await caught(() => response.text()));
    expect(failure).toMatchObject({ kind: "transport", retryable: true });
  });

  it("rethrows the caller's abort instead of classifying it", async () => {
    const baseUrl = await listen(createServer(() => {}));
    const caller = new AbortController();
    const pending = caught(() => fetch(baseUrl, { signal: caller.signal }));
    const reason = new Error("turn cancelled");
    caller.abort(reason);
    const error = await pending;
    let thrown: unknown;
    try {
      providerFailureFromTransport(error, { signal: caller.signal });
    } catch (rethrown) {
      thrown = rethrown;
    }
    expect(thrown).toBe(reason);
  });

  it("gives an AbortError when the caller aborted without a reason", () => {
    const caller = new AbortController();
    caller.abort();
    expect((callerAbortError(caller.signal) as Error).name).toBe("AbortError");
    const empty = { aborted: true, reason: undefined } as unknown as AbortSignal;
    expect((callerAbortError(empty) as Error).name).toBe("AbortError");
  });

  it("returns the deadline's timeout failure first", () => {
    const timeout = classifyProviderFailure({ kind: "timeout", code: "timeout", message: "late" });
    const failure = providerFailureFromTransport(new Error("fetch failed"), { deadline: { timedOut: () => timeout } });
    expect(failure).toBe(timeout);
  });

  it("keeps a ProviderCallError's failure", () => {
    const original = classifyProviderFailure({ status: 503, message: "down" });
    expect(providerFailureFromTransport(new ProviderCallError(original))).toBe(original);
  });

  it("never makes an abort that did not come from the caller retryable", () => {
    const failure = providerFailureFromTransport(new DOMException("aborted", "AbortError"), { signal: new AbortController().signal });
    expect(failure).toMatchObject({ kind: "unknown", code: "aborted", retryable: false });
  });

  it("reads timeout codes and names anywhere in the cause chain", () => {
    const socketTimeout = Object.assign(new Error("connect ETIMEDOUT"), { code: "ETIMEDOUT" });
    expect(providerFailureFromTransport(new Error("fetch failed", { cause: socketTimeout }))).toMatchObject({
      kind: "timeout",
      retryable: true,
      code: "ETIMEDOUT",
    });
    const sdkTimeout = Object.assign(new Error("Request timed out."), { name: "APIConnectionTimeoutError" });
    expect(providerFailureFromTransport(sdkTimeout)).toMatchObject({ kind: "timeout", retryable: true, code: "timeout" });
    expect(providerFailureFromTransport(Object.assign(new Error("Connection error."), { name: "APIConnectionError" }))).toMatchObject({
      kind: "transport",
      retryable: true,
    });
  });

  it("treats a malformed stream as non-retryable and anything else as unknown", () => {
    expect(providerFailureFromTransport(new SyntaxError("Unexpected token"))).toMatchObject({ kind: "stream", retryable: false });
    expect(providerFailureFromTransport(new TypeError("Cannot read properties of undefined"))).toMatchObject({
      kind: "unknown",
      retryable: false,
    });
    expect(providerFailureFromTransport("a string was thrown")).toMatchObject({ kind: "unknown", message: "a string was thrown" });
    expect(providerFailureFromTransport(undefined).message).toBe("the provider request failed");
  });

  it("survives a cyclic cause chain", () => {
    const first = new Error("first") as Error & { cause?: unknown };
    const second = new Error("second", { cause: first });
    first.cause = second;
    expect(providerFailureFromTransport(first).message).toBe("first: second");
  });
});
