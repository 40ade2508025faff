import { ProviderCallError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { readServerSentEvents, type ServerSentEvent } from "./server-sent-event-reader.js";

function bodyOf(chunks: ReadonlyArray<string | Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function read(chunks: ReadonlyArray<string | Uint8Array>, largestEventCharacters?: number): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  const options = largestEventCharacters === undefined ? {} : { largestEventCharacters };
  for await (const event of readServerSentEvents(bodyOf(chunks), options)) events.push(event);
  return events;
}

async function failure(chunks: ReadonlyArray<string | Uint8Array>, largestEventCharacters?: number): Promise<ProviderCallError> {
  try {
    await read(chunks, largestEventCharacters);
  } catch (error) {
    if (ProviderCallError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected the stream to fail");
}

describe("readServerSentEvents", () => {
  it("reads named and unnamed events, joins data lines and skips comments and other fields", async () => {
    const events = await read([": keep-alive\n", "event: ping\ndata: {}\nid: 7\nretry: 10\n\n", 'data: {"a":1}\n', "data: 2\n\n"]);
    expect(events).toEqual([
      { event: "ping", data: "{}" },
      { event: undefined, data: '{"a":1}\n2' },
    ]);
  });

  it("accepts CRLF and CR line ends, also when a CRLF is split across chunks", async () => {
    const events = await read(["data: one\r", "\n\r\ndata: two\r\r", "data:three\n\n"]);
    expect(events).toEqual([
      { event: undefined, data: "one" },
      { event: undefined, data: "two" },
      { event: undefined, data: "three" },
    ]);
  });

  it("reassembles a UTF-8 character split across chunks", async () => {
    const bytes = new TextEncoder().encode("data: héllo 🎉\n\n");
    const split = bytes.indexOf(0xf0) + 2;
    const events = await read([bytes.slice(0, 8), bytes.slice(8, split), bytes.slice(split)]);
    expect(events).toEqual([{ event: undefined, data: "héllo 🎉" }]);
  });

  it("dispatches an event left open when the body ends, and drops one without data", async () => {
    expect(await read(["data: last"])).toEqual([{ event: undefined, data: "last" }]);
    expect(await read(["event: ping\n\n"])).toEqual([]);
  });

  it("fails on invalid UTF-8 and on oversized lines or events", async () => {
    expect((await failure([new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a, 0x0a])])).failure).toMatchObject({
      kind: "stream",
      retryable: false,
      message: "the stream is not valid UTF-8",
    });
    expect((await failure([`data: ${"x".repeat(100)}`], 50)).failure.message).toMatch(/longer than 50/);
    expect((await failure(["data: 1234567890\n".repeat(10)], 50)).failure.message).toMatch(/larger than 50/);
  });

  it("cancels the body when the consumer stops early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode("data: x\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const event of readServerSentEvents(body)) {
      expect(event.data).toBe("x");
      break;
    }
    expect(cancelled).toBe(true);
  });
});
