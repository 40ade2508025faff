import { resolveProviderTimeouts, startRequestDeadline } from "@lash/provider-utils";
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
  return { responseStarted: false, errorBody: undefined };
}

describe("the per-call fetch", () => {
  it("keeps at most 1 MB of an error body", async () => {
    const deadline = startRequestDeadline({ timeouts: resolveProviderTimeouts() });
    try {
      const seen = observation();
      const response = await createCallFetch(
        fetchAnswering(500, new Uint8Array(MEBIBYTE).fill(0x62), 8),
        deadline,
        seen,
      )("http://127.0.0.1/", {});
      expect(seen.responseStarted).toBe(true);
      expect(response.status).toBe(500);
      expect(seen.errorBody?.length).toBe(1_000_000);
      expect((await response.text()).length).toBe(1_000_000);
    } finally {
      deadline.dispose();
    }
  });

  it("passes a successful body through untouched, for the adapter to read", async () => {
    const deadline = startRequestDeadline({ timeouts: resolveProviderTimeouts() });
    try {
      const seen = observation();
      const response = await createCallFetch(
        fetchAnswering(200, new Uint8Array(1024).fill(0x63), 3),
        deadline,
        seen,
      )("http://127.0.0.1/", {});
      expect(seen.errorBody).toBeUndefined();
      expect((await response.arrayBuffer()).byteLength).toBe(3 * 1024);
    } finally {
      deadline.dispose();
    }
  });
});
