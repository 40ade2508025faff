import { ProviderCallError, resolveProviderTimeouts, startRequestDeadline } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { type CallObservation, createCallFetch } from "./call-fetch.js";

const MEBIBYTE = 1024 * 1024;

/** A fetch answering with a body of `chunkCount` chunks of `chunk` (a server this hostile is costly to run for real). */
function fetchAnswering(status: number, chunk: Uint8Array, chunkCount: number): typeof globalThis.fetch {
  return async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === chunkCount) {
          controller.close();
          return;
        }
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    return new Response(body, { status, headers: { "content-type": status === 200 ? "text/event-stream" : "text/plain" } });
  };
}

function observation(): CallObservation {
  return { responseStarted: false, errorBody: undefined, contentType: undefined };
}

describe("the per-call fetch", () => {
  it("errors a body whose line grows past 16 MiB instead of buffering it", async () => {
    const deadline = startRequestDeadline({ timeouts: resolveProviderTimeouts() });
    try {
      const seen = observation();
      const fetch = createCallFetch(fetchAnswering(200, new Uint8Array(MEBIBYTE).fill(0x61), 64), deadline, seen);
      const response = await fetch("http://127.0.0.1/", {});
      expect(seen).toMatchObject({ responseStarted: true, contentType: "text/event-stream" });
      const error = await response.text().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(ProviderCallError.isInstance(error)).toBe(true);
      expect(ProviderCallError.isInstance(error) && error.failure).toMatchObject({
        kind: "stream",
        code: "stream_line_too_long",
        retryable: false,
      });
    } finally {
      deadline.dispose();
    }
  });

  it("passes long bodies made of short lines", async () => {
    const deadline = startRequestDeadline({ timeouts: resolveProviderTimeouts() });
    try {
      // 1 MiB chunks of 1 KiB lines, 20 MiB in all: past the limit only if lines were not counted apart.
      const chunk = new Uint8Array(MEBIBYTE).fill(0x78);
      for (let end = 1023; end < chunk.length; end += 1024) chunk[end] = 0x0a;
      const response = await createCallFetch(fetchAnswering(200, chunk, 20), deadline, observation())("http://127.0.0.1/", {});
      expect((await response.arrayBuffer()).byteLength).toBe(20 * MEBIBYTE);
    } finally {
      deadline.dispose();
    }
  });

  it("keeps at most 1 MB of an error body", async () => {
    const deadline = startRequestDeadline({ timeouts: resolveProviderTimeouts() });
    try {
      const seen = observation();
      const response = await createCallFetch(
        fetchAnswering(500, new Uint8Array(MEBIBYTE).fill(0x62), 8),
        deadline,
        seen,
      )("http://127.0.0.1/", {});
      expect(response.status).toBe(500);
      expect(seen.errorBody?.length).toBe(1_000_000);
      expect((await response.text()).length).toBe(1_000_000);
    } finally {
      deadline.dispose();
    }
  });
});
