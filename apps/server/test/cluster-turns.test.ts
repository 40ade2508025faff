import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedProvider, textStep, toolCallStep } from "@lash/adapter-scripted";
import { defineTool } from "@lash/core";
import type { ModelProvider } from "@lash/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type AgentProfile,
  type ClusterTurn,
  type ClusterTurnKey,
  openServerStore,
  type RunningClusterTurn,
  type RunningServer,
  startServer,
  type TurnCluster,
  type TurnEnding,
} from "../src/index.js";
import { gateTool, type ParsedEvent, readEvents, requestJson } from "./server-harness.js";

/**
 * The instances of one process on one store, coordinated in memory: what the PostgreSQL cluster
 * does with a table and notifications, here a map and direct calls, so the routes' answers can be
 * checked turn by turn (the PostgreSQL one is tested with real processes in many-instances.test.ts).
 */
class InMemoryHub {
  readonly rows = new Map<string, { sessionId: string; owner: HubMember; state: "running" | "ended"; ending?: TurnEnding }>();
  readonly log: string[] = [];
  readonly members: HubMember[] = [];
  /** When set, `runningTurnOf` answers only once this many checks are waiting: two starts see the session idle together. */
  #barrier: { remaining: number; release: () => void; reached: Promise<void> } | undefined;

  holdChecks(count: number): void {
    let release = (): void => undefined;
    const reached = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#barrier = { remaining: count, release, reached };
  }

  async passBarrier(): Promise<void> {
    const barrier = this.#barrier;
    if (barrier === undefined) return;
    barrier.remaining -= 1;
    if (barrier.remaining <= 0) {
      this.#barrier = undefined;
      barrier.release();
    }
    await barrier.reached;
  }

  member(name: string): HubMember {
    const member = new HubMember(this, name);
    this.members.push(member);
    return member;
  }
}

class HubMember implements TurnCluster {
  readonly instanceId: string;
  url: string | undefined;
  closed = false;
  readonly #hub: InMemoryHub;
  readonly #listeners = new Set<(turn: ClusterTurnKey) => void>();
  readonly #endWaiters = new Set<() => void>();

  constructor(hub: InMemoryHub, name: string) {
    this.#hub = hub;
    this.instanceId = name;
  }

  announce(url: string): void {
    this.url = url;
  }

  onCancelRequest(listener: (turn: ClusterTurnKey) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async turnStarted(turn: ClusterTurnKey): Promise<void> {
    this.#hub.log.push(`${this.instanceId} started ${turn.turnId}`);
    this.#hub.rows.set(turn.turnId, { sessionId: turn.sessionId, owner: this, state: "running" });
  }

  async turnEnded(turn: ClusterTurnKey, ending: TurnEnding): Promise<void> {
    this.#hub.log.push(`${this.instanceId} ended ${turn.turnId} with ${ending.event} ${ending.eventId}`);
    this.#hub.rows.set(turn.turnId, { sessionId: turn.sessionId, owner: this, state: "ended", ending });
    for (const member of this.#hub.members) member.wakeEndWaiters();
  }

  async findTurn(turn: ClusterTurnKey): Promise<ClusterTurn | undefined> {
    const row = this.#hub.rows.get(turn.turnId);
    if (row === undefined || row.sessionId !== turn.sessionId) return undefined;
    if (row.state === "ended" && row.ending !== undefined) return { state: "ended", ending: row.ending };
    if (row.owner.closed) return { state: "abandoned", instanceId: row.owner.instanceId };
    return { state: "running", instanceId: row.owner.instanceId, ...(row.owner.url === undefined ? {} : { url: row.owner.url }) };
  }

  async runningTurnOf(sessionId: string): Promise<RunningClusterTurn | undefined> {
    const running = [...this.#hub.rows.entries()].find(
      ([, row]) => row.sessionId === sessionId && row.state === "running" && row.owner !== this && !row.owner.closed,
    );
    await this.#hub.passBarrier();
    if (running === undefined) return undefined;
    const [turnId, row] = running;
    return { turnId, instanceId: row.owner.instanceId, ...(row.owner.url === undefined ? {} : { url: row.owner.url }) };
  }

  waitForTurn(turn: ClusterTurnKey): Promise<ClusterTurn | undefined> {
    return this.#whileRunning(turn, false);
  }

  cancelTurn(turn: ClusterTurnKey): Promise<ClusterTurn | undefined> {
    return this.#whileRunning(turn, true);
  }

  async #whileRunning(turn: ClusterTurnKey, cancel: boolean): Promise<ClusterTurn | undefined> {
    for (;;) {
      const known = await this.findTurn(turn);
      if (known?.state !== "running") return known;
      const ended = new Promise<void>((resolve) => this.#endWaiters.add(resolve));
      if (cancel) this.#hub.rows.get(turn.turnId)?.owner.deliverCancel(turn);
      await ended;
    }
  }

  deliverCancel(turn: ClusterTurnKey): void {
    for (const listener of this.#listeners) listener(turn);
  }

  wakeEndWaiters(): void {
    for (const wake of this.#endWaiters) wake();
    this.#endWaiters.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const started: RunningServer[] = [];
const directories: string[] = [];
afterEach(async () => {
  for (const server of started.splice(0)) await server.close();
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

/** Two servers on one SQLite file, each with its member of one hub. */
async function startPair(profile: (name: "a" | "b") => AgentProfile): Promise<{ a: RunningServer; b: RunningServer; hub: InMemoryHub }> {
  const directory = await mkdtemp(join(tmpdir(), "lash-server-cluster-"));
  directories.push(directory);
  const hub = new InMemoryHub();
  const open = async (name: "a" | "b") => {
    const server = await startServer({
      store: await openServerStore(`sqlite:${join(directory, "shared.db")}`),
      port: 0,
      profiles: { default: profile(name) },
      cluster: hub.member(name),
      gracePeriodMs: 1_000,
      onUnexpectedError: () => undefined,
    });
    started.push(server);
    return server;
  };
  return { a: await open("a"), b: await open("b"), hub };
}

function scripted(provider: ModelProvider, extra: Omit<AgentProfile, "provider"> = {}): AgentProfile {
  return { provider, ...extra };
}

async function createSession(server: RunningServer): Promise<string> {
  return ((await requestJson(`${server.url}/v1/sessions`, { body: {} })).body as { id: string }).id;
}

async function streamTurn(server: RunningServer, sessionId: string): Promise<ParsedEvent[]> {
  const response = await fetch(`${server.url}/v1/sessions/${sessionId}/turns`, {
    method: "POST",
    headers: { accept: "text/event-stream", "content-type": "application/json" },
    body: JSON.stringify({ input: "Go" }),
  });
  return readEvents(response);
}

describe("turns across instances (coordinated in memory)", () => {
  it("announce a turn before its requester learns its id, record its ending before it settles, and serve that ending elsewhere", async () => {
    const { a, b, hub } = await startPair((name) =>
      scripted(new ScriptedProvider(name === "a" ? [textStep("From A.", { chunks: 3 })] : [])),
    );
    const sessionId = await createSession(a);
    const events = await streamTurn(a, sessionId);
    const turnId = (events[0]!.data as { turnId: string }).turnId;
    const result = events.at(-1)!;
    expect(hub.log).toEqual([`a started ${turnId}`, `a ended ${turnId} with result ${result.id}`]);

    const url = `${b.url}/v1/sessions/${sessionId}/turns/${turnId}/events`;
    expect(await readEvents(await fetch(url))).toEqual([result]);
    expect(await readEvents(await fetch(url, { headers: { "last-event-id": String(result.id - 1) } }))).toEqual([result]);
    expect(await readEvents(await fetch(url, { headers: { "last-event-id": String(result.id) } }))).toEqual([]);
    const beyond = await requestJson(url, { headers: { "last-event-id": String(result.id + 1) } });
    expect(beyond).toMatchObject({ status: 400, body: { error: { code: "invalid_last_event_id" } } });
    // Another tenant's session, or a turn of another session, stays unknown.
    const otherSession = await createSession(b);
    const crossed = await requestJson(`${b.url}/v1/sessions/${otherSession}/turns/${turnId}/events`);
    expect(crossed).toMatchObject({ status: 404, body: { error: { code: "turn_not_found" } } });
  });

  it("cancel through B a turn that runs on A, relay its events through B (409 with A's address when relaying cannot work), 404 once A stopped without ending it", async () => {
    const { tool, gate } = gateTool();
    const { a, b, hub } = await startPair(() =>
      scripted(new ScriptedProvider([toolCallStep([{ callId: "wait-1", name: "wait_for_gate", args: {} }]), textStep("Never.")]), {
        tools: [tool],
      }),
    );
    const sessionId = await createSession(a);
    const running = streamTurn(a, sessionId);
    await gate.reached;
    const turnId = [...hub.rows.keys()][0]!;
    const events = `${b.url}/v1/sessions/${sessionId}/turns/${turnId}/events`;
    // A request another instance relayed is never relayed again: it gets the 409 naming A.
    expect(await requestJson(events, { headers: { "lash-relayed-by": "c" } })).toMatchObject({
      status: 409,
      body: { error: { code: "turn_in_progress", details: { turnId, instanceId: "a", instanceUrl: a.url } } },
    });
    // A client reattaching through B reads A's stream, relayed as it happens.
    const relayedResponse = await fetch(events, { headers: { accept: "text/event-stream" } });
    expect(relayedResponse.status).toBe(200);
    expect(relayedResponse.headers.get("lash-relayed-from")).toBe(new URL(a.url).origin);
    const relayed = readEvents(relayedResponse);

    const cancelled = await requestJson(`${b.url}/v1/sessions/${sessionId}/turns/${turnId}/cancel`, { method: "POST" });
    expect(cancelled).toMatchObject({ status: 200, body: { turnId, outcome: { type: "stopped", stop: { type: "cancelled" } } } });
    const direct = await running;
    expect(direct.at(-1)).toMatchObject({ event: "result", data: cancelled.body as object });
    // The relayed stream is A's: the same events under the same ids, to the result.
    expect((await relayed).map((event) => [event.id, event.event])).toEqual(direct.map((event) => [event.id, event.event]));

    // A turn whose instance went away without ending it.
    hub.rows.set("lost-turn", { sessionId, owner: hub.member("gone"), state: "running" });
    await [...hub.rows.values()].at(-1)!.owner.close();
    expect(await requestJson(`${b.url}/v1/sessions/${sessionId}/turns/lost-turn/events`)).toMatchObject({
      status: 404,
      body: { error: { code: "turn_not_found", details: { reason: "instance_stopped", instanceId: "gone" } } },
    });
  });

  it("refuse to serve an ending that does not read as one (500), rather than pass it on", async () => {
    const { a, b, hub } = await startPair(() => scripted(new ScriptedProvider([])));
    const sessionId = await createSession(a);
    hub.rows.set("odd-turn", {
      sessionId,
      owner: hub.member("a"),
      state: "ended",
      ending: { event: "result", eventId: 3, data: '{"turnId":1}' },
    });
    expect(await requestJson(`${b.url}/v1/sessions/${sessionId}/turns/odd-turn/events`)).toMatchObject({
      status: 500,
      body: { error: { code: "internal_error" } },
    });
  });

  it("go on counting a turn's events on B when its approval is decided there after it waited on A", async () => {
    const deploy = defineTool({
      name: "deploy",
      description: "Deploy a service.",
      inputSchema: z.object({ service: z.string() }),
      needsApproval: true,
      execute: ({ service }) => `${service} is live`,
    });
    const { a, b } = await startPair((name) =>
      scripted(
        new ScriptedProvider(
          name === "a" ? [toolCallStep([{ callId: "call-1", name: "deploy", args: { service: "api" } }])] : [textStep("api is live.")],
        ),
        { tools: [deploy] },
      ),
    );
    const sessionId = await createSession(a);
    const first = await streamTurn(a, sessionId);
    const waiting = first.at(-1)!;
    expect(waiting).toMatchObject({ event: "result", data: { outcome: { stop: { type: "awaiting_approval" } } } });
    const turnId = (waiting.data as { turnId: string }).turnId;
    const approvals = (await requestJson(`${b.url}/v1/sessions/${sessionId}/approvals`)).body as { approvals: { id: string }[] };
    const decided = await fetch(`${b.url}/v1/sessions/${sessionId}/approvals/${approvals.approvals[0]!.id}`, {
      method: "POST",
      headers: { accept: "text/event-stream", "content-type": "application/json" },
      body: JSON.stringify({ decision: "approve" }),
    });
    const second = await readEvents(decided);
    expect(second[0]).toMatchObject({ id: waiting.id + 1, event: "turn", data: { turnId, resumed: true } });
    expect(second.at(-1)).toMatchObject({ event: "result", data: { turnId, answer: { text: "api is live." } } });
    // A, which ran the first segment, now serves the second one's ending.
    const fromA = await readEvents(
      await fetch(`${a.url}/v1/sessions/${sessionId}/turns/${turnId}/events`, { headers: { "last-event-id": String(waiting.id) } }),
    );
    expect(fromA.at(-1)).toEqual(second.at(-1));
  });

  it("start one turn of a session at a time across instances: a second waits for the first (enqueue), or is refused (reject)", async () => {
    for (const policy of ["enqueue", "reject"] as const) {
      const { a, b, hub } = await startPair((name) =>
        scripted(new ScriptedProvider([textStep(`From ${name.toUpperCase()}.`)]), { concurrentTurns: policy }),
      );
      const sessionId = await createSession(a);
      // Both requests find the session idle before either turn starts: the store decides who goes first.
      hub.holdChecks(2);
      const answers = await Promise.all(
        [a, b].map((server, index) =>
          requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: `Question ${index === 0 ? "A" : "B"}` } }),
        ),
      );
      const session = (await requestJson(`${a.url}/v1/sessions/${sessionId}`)).body as { turnIndex: number; messages: unknown[] };
      const transcript = JSON.stringify(session.messages);
      if (policy === "enqueue") {
        expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
        expect(answers.map((answer) => (answer.body as { turnIndex: number }).turnIndex).sort()).toEqual([1, 2]);
        expect(session.turnIndex).toBe(2);
        // Each question once: the turn that lost the race left nothing behind before it ran again.
        expect(transcript.split("Question A").length - 1).toBe(1);
        expect(transcript.split("Question B").length - 1).toBe(1);
      } else {
        expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
        const refused = answers.find((answer) => answer.status === 409);
        expect(refused?.body).toMatchObject({ error: { code: "turn_in_progress", details: { sessionId } } });
        expect(session.turnIndex).toBe(1);
        expect(transcript.split("Question").length - 1).toBe(1);
      }
      for (const server of started.splice(0)) await server.close();
    }
  });
});
