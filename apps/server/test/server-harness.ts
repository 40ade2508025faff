import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineTool } from "@lash/core";
import type { ModelProvider } from "@lash/protocol";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { z } from "zod";
import type { AgentProfile, RunningServer, ServerLimits, ServerStore } from "../src/index.js";
import { openServerStore, startServer } from "../src/index.js";

/** A server on loopback over a fresh SQLite file, and what a test needs to talk to it. */
export interface TestServer {
  readonly url: string;
  readonly running: RunningServer;
  readonly store: ServerStore;
  readonly directory: string;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/** Starts a server with one profile (`default`) on `provider`, plus any others, over SQLite in a temporary folder. */
export async function startTestServer(options: {
  readonly provider: ModelProvider;
  readonly profile?: Omit<AgentProfile, "provider">;
  readonly profiles?: Readonly<Record<string, AgentProfile>>;
  readonly limits?: Partial<ServerLimits>;
  readonly gracePeriodMs?: number;
  /** `memory:` for the in-memory store; a SQLite file in a fresh directory by default. */
  readonly store?: "memory:";
}): Promise<TestServer> {
  const directory = await mkdtemp(join(tmpdir(), "lash-server-test-"));
  const store = await openServerStore(options.store ?? `sqlite:${join(directory, "lash.db")}`);
  const running = await startServer({
    store,
    port: 0,
    profiles: { default: { provider: options.provider, ...options.profile }, ...options.profiles },
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    gracePeriodMs: options.gracePeriodMs ?? 5_000,
    onUnexpectedError: () => undefined,
  });
  return {
    url: running.url,
    running,
    store,
    directory,
    stop: async () => {
      await running.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Sends JSON with a method; returns the status and the parsed body. */
export async function requestJson(
  url: string,
  options: { readonly method?: string; readonly body?: unknown; readonly rawBody?: string; readonly headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(url, {
    method: options.method ?? (body === undefined ? "GET" : "POST"),
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...options.headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown), headers: response.headers };
}

/** Creates a session and returns its id. */
export async function createSession(server: TestServer, body: unknown = {}): Promise<string> {
  const created = await requestJson(`${server.url}/v1/sessions`, { body });
  if (created.status !== 201) throw new Error(`creating a session failed: ${created.status} ${JSON.stringify(created.body)}`);
  return (created.body as { id: string }).id;
}

/** One parsed server-sent event. */
export interface ParsedEvent {
  readonly id: number;
  readonly event: string;
  readonly data: unknown;
}

/**
 * Reads a `text/event-stream` body with `eventsource-parser`, calling `onEvent` for each event;
 * stops reading (and disconnects) when `onEvent` returns `"stop"`. Resolves with the events read.
 */
export async function readEvents(
  response: Response,
  onEvent: (event: ParsedEvent) => "stop" | undefined = () => undefined,
): Promise<ParsedEvent[]> {
  const events: ParsedEvent[] = [];
  let stop = false;
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      if (stop) return;
      const event = { id: Number(message.id), event: message.event ?? "message", data: JSON.parse(message.data) as unknown };
      events.push(event);
      if (onEvent(event) === "stop") stop = true;
    },
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(value);
    if (stop) {
      await reader.cancel();
      break;
    }
  }
  return events;
}

/** A gate a test opens: a tool that waits on it holds its turn mid-way, deterministically. */
export interface Gate {
  readonly opened: Promise<void>;
  open(): void;
  /** Resolves when a tool call started waiting on the gate. */
  readonly reached: Promise<void>;
}

/** A `wait_for_gate` tool over a fresh gate; the call ends when the gate opens or the turn is cancelled. */
export function gateTool(): { gate: Gate; tool: ReturnType<typeof defineTool> } {
  let open: () => void = () => undefined;
  let reach: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  const tool = defineTool({
    name: "wait_for_gate",
    description: "Waits until the test opens the gate.",
    inputSchema: z.object({}),
    execute: async (_input, context) => {
      reach();
      await new Promise<void>((resolve, reject) => {
        void opened.then(resolve);
        context.signal.addEventListener("abort", () => reject(new Error("cancelled")), { once: true });
      });
      return "gate opened";
    },
  });
  return { gate: { opened, open, reached }, tool };
}

/** Resolves once `condition` holds, checking every few milliseconds (for states no event announces). */
export async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
