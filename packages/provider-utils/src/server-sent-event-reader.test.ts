import { LashError, ProviderCallError, type ProviderFailure } from "@lash/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { resolveProviderTimeouts } from "./provider-timeouts.js";
import { type RequestDeadline, startRequestDeadline } from "./request-deadline.js";
import { readServerSentEvents, type ServerSentEvent, type ServerSentEventReaderOptions } from "./server-sent-event-reader.js";

const encoder = new TextEncoder();
const EVENT_STREAM = { "content-type": "text/event-stream" };

function responseOf(chunks: ReadonlyArray<string | Uint8Array>, headers: Record<string, string> = EVENT_STREAM): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
  return new Response(body, { headers });
}

/** A body that sends `chunks`, then nothing until it is cancelled, as a stalled server does. */
function stalledResponse(chunks: readonly string[]): { response: Response; cancelled: () => boolean } {
  let cancelled = false;
  let sent = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[sent];
        sent += 1;
        if (chunk !== undefined) controller.enqueue(encoder.encode(chunk));
        // Past the last chunk the pull returns without enqueuing: the read stays pending.
        return chunk === undefined ? new Promise<void>(() => {}) : undefined;
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { response: new Response(body, { headers: EVENT_STREAM }), cancelled: () => cancelled };
}

let deadlines: RequestDeadline[] = [];
afterEach(() => {
  for (const deadline of deadlines) deadline.dispose();
  deadlines = [];
  vi.useRealTimers();
});

function deadlineFor(signal?: AbortSignal, timeouts = resolveProviderTimeouts()): RequestDeadline {
  const deadline = startRequestDeadline(signal === undefined ? { timeouts } : { timeouts, signal });
  deadlines.push(deadline);
  return deadline;
}

async function read(response: Response, options: Partial<ServerSentEventReaderOptions> = {}): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of readServerSentEvents(response, { deadline: deadlineFor(), ...options })) events.push(event);
  return events;
}

async function failureOf(promise: Promise<unknown>): Promise<ProviderFailure> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!ProviderCallError.isInstance(error)) throw new Error(`expected a ProviderCallError, got ${String(error)}`);
  return error.failure;
}

describe("readServerSentEvents: framing", () => {
  it("reads named and unnamed events, joins data lines and skips comments and retry fields", async () => {
    const events = await read(
      responseOf([": keep-alive\n", "event: ping\ndata: {}\nid: 7\nretry: 10\n\n", 'data: {"a":1}\n', "data: 2\n\n"]),
    );
    expect(events).toEqual([
      { event: "ping", data: "{}", id: "7" },
      { event: undefined, data: '{"a":1}\n2', id: undefined },
    ]);
  });

  it("accepts CRLF and CR line ends, also when a CRLF is split across chunks", async () => {
    const events = await read(responseOf(["data: one\r", "\n\r\ndata: two\r\r", "data:three\n\n"]));
    expect(events.map((event) => event.data)).toEqual(["one", "two", "three"]);
  });

  it("joins a UTF-8 character split across chunks", async () => {
    const bytes = encoder.encode("data: héllo 🎉\n\n");
    const split = bytes.indexOf(0xf0) + 2;
    const events = await read(responseOf([bytes.slice(0, 8), bytes.slice(8, split), bytes.slice(split)]));
    expect(events.map((event) => event.data)).toEqual(["héllo 🎉"]);
  });

  it("dispatches an event left open when the body ends, and drops one without data", async () => {
    expect((await read(responseOf(["data: last"]))).map((event) => event.data)).toEqual(["last"]);
    expect((await read(responseOf(["data: last\r"]))).map((event) => event.data)).toEqual(["last"]);
    expect(await read(responseOf(["event: ping\n\n"]))).toEqual([]);
  });

  it("fails on bytes that are not UTF-8", async () => {
    const failure = await failureOf(read(responseOf([new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a, 0x0a])])));
    expect(failure).toMatchObject({ kind: "stream", code: "malformed_stream", retryable: false });
    expect(failure.message).toContain("not valid UTF-8");
  });

  it("fails an event or an unfinished line past the limit, and never buffers a line that is no field", async () => {
    expect(await failureOf(read(responseOf(["data: 1234567890\n".repeat(10)]), { largestEventCharacters: 50 }))).toMatchObject({
      kind: "stream",
      code: "stream_event_too_large",
      retryable: false,
    });
    expect(await failureOf(read(responseOf(["data: ", "x".repeat(30), "x".repeat(30)]), { largestEventCharacters: 50 }))).toMatchObject({
      code: "stream_event_too_large",
    });
    // A line that cannot become a field is dropped as it arrives, whatever its length.
    const garbage = Array.from({ length: 20 }, () => "a".repeat(1_000));
    const events = await read(responseOf([...garbage, "\ndata: after\n\n"]), { largestEventCharacters: 100 });
    expect(events.map((event) => event.data)).toEqual(["after"]);
  });

  it("refuses a limit that is not a positive integer", async () => {
    const error = await read(responseOf([]), { largestEventCharacters: 0 }).catch((caught: unknown) => caught);
    expect(LashError.isInstance(error) && error.code).toBe("invalid_configuration");
  });
});

describe("readServerSentEvents: completion", () => {
  const completion = (reached: () => boolean) => ({ name: "message_stop", isReached: reached });

  it("fails a stream that ends before its completion signal as retryable stream_truncated", async () => {
    const failure = await failureOf(read(responseOf(["data: a\n\n"]), { completion: completion(() => false) }));
    expect(failure).toMatchObject({
      kind: "stream",
      code: "stream_truncated",
      retryable: true,
      message: "the stream ended before message_stop",
    });
  });

  it("says so when the response was not an event stream, and does not retry it", async () => {
    const response = responseOf(['{"choices":[]}'], { "content-type": "application/json" });
    const failure = await failureOf(read(response, { completion: completion(() => false) }));
    expect(failure).toMatchObject({ kind: "stream", code: "not_an_event_stream", retryable: false });
    expect(failure.message).toContain('"application/json"');
  });

  it("fails a response without a body the same way, and accepts a complete stream", async () => {
    const empty = new Response(null, { headers: EVENT_STREAM });
    expect(await failureOf(read(empty, { completion: completion(() => false) }))).toMatchObject({ code: "stream_truncated" });
    let stopped = false;
    const events: string[] = [];
    for await (const event of readServerSentEvents(responseOf(["data: a\n\n", "data: stop\n\n"]), {
      deadline: deadlineFor(),
      completion: completion(() => stopped),
    })) {
      events.push(event.data);
      stopped = event.data === "stop";
    }
    expect(events).toEqual(["a", "stop"]);
  });
});

describe("readServerSentEvents: stopping", () => {
  it("cancels the body when the consumer stops early", async () => {
    const stalled = stalledResponse(["data: x\n\n"]);
    for await (const event of readServerSentEvents(stalled.response, { deadline: deadlineFor() })) {
      expect(event.data).toBe("x");
      break;
    }
    expect(stalled.cancelled()).toBe(true);
  });

  it("ends a pending read with the caller's abort and cancels the body, even when fetch ignores the signal", async () => {
    const caller = new AbortController();
    const stalled = stalledResponse(["data: first\n\n"]);
    const reason = new Error("the user cancelled");
    const seen: string[] = [];
    const error = await (async () => {
      for await (const event of readServerSentEvents(stalled.response, { deadline: deadlineFor(caller.signal), signal: caller.signal })) {
        seen.push(event.data);
        setTimeout(() => caller.abort(reason), 0);
      }
    })().catch((caught: unknown) => caught);
    expect(error).toBe(reason);
    expect(seen).toEqual(["first"]);
    expect(stalled.cancelled()).toBe(true);
  });

  it("reads nothing after the caller already aborted, and cancels the body", async () => {
    const caller = new AbortController();
    const reason = new Error("cancelled before reading");
    caller.abort(reason);
    const stalled = stalledResponse(["data: never read\n\n"]);
    const error = await read(stalled.response, { deadline: deadlineFor(caller.signal), signal: caller.signal }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBe(reason);
    expect(stalled.cancelled()).toBe(true);
  });

  it("ends a stalled read with the deadline's timeout failure", async () => {
    vi.useFakeTimers();
    const stalled = stalledResponse(["data: first\n\n"]);
    const deadline = deadlineFor(undefined, resolveProviderTimeouts({ chunkTimeoutMs: 1_000 }));
    const seen: string[] = [];
    const pending = (async () => {
      for await (const event of readServerSentEvents(stalled.response, { deadline })) seen.push(event.data);
    })();
    const failure = failureOf(pending);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await failure).toMatchObject({ kind: "timeout", code: "timeout", retryable: true });
    expect(seen).toEqual(["first"]);
    expect(stalled.cancelled()).toBe(true);
  });

  it("does not count the consumer's own wait against the chunk timeout", async () => {
    vi.useFakeTimers();
    const deadline = deadlineFor(undefined, resolveProviderTimeouts({ chunkTimeoutMs: 1_000 }));
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let secondReadStarted: () => void = () => {};
    const waitingForSecond = new Promise<void>((resolve) => {
      secondReadStarted = resolve;
    });
    let sent = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          sent += 1;
          if (sent === 1) controller.enqueue(encoder.encode("data: first\n\n"));
          else if (sent === 2) {
            secondReadStarted();
            await released;
            controller.enqueue(encoder.encode("data: second\n\n"));
          } else controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const seen: string[] = [];
    const pending = (async () => {
      for await (const event of readServerSentEvents(new Response(body, { headers: EVENT_STREAM }), { deadline })) {
        seen.push(event.data);
        // A slow consumer: most of the chunk timeout passes before it asks for the next event.
        if (event.data === "first") await vi.advanceTimersByTimeAsync(800);
      }
    })();
    // Then the server is slow too: together the two waits pass the chunk timeout, each alone does not.
    await waitingForSecond;
    await vi.advanceTimersByTimeAsync(800);
    release();
    await pending;
    expect(seen).toEqual(["first", "second"]);
    expect(deadline.timedOut()).toBeUndefined();
  });

  it("rethrows an error of the body itself for the adapter to classify", async () => {
    const dropped = new TypeError("terminated");
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.error(dropped);
      },
    });
    const error = await (async () => {
      for await (const _event of readServerSentEvents(new Response(body, { headers: EVENT_STREAM }), { deadline: deadlineFor() })) {
        // Nothing arrives before the drop.
      }
    })().catch((caught: unknown) => caught);
    expect(error).toBe(dropped);
  });
});
