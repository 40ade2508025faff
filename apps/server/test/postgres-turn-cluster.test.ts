import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { clusterChannelName } from "../src/cluster/cluster-messages.js";
import { type ClusterTurnKey, createPostgresTurnCluster, type TurnCluster } from "../src/index.js";

const postgresEnabled = await postgresTestsEnabled();

const opened: TurnCluster[] = [];
const schemas: string[] = [];
afterEach(async () => {
  for (const cluster of opened.splice(0)) await cluster.close();
  if (schemas.length > 0) await dropSchema(...schemas.splice(0));
});

async function openPair(): Promise<{ a: TurnCluster; b: TurnCluster; schema: string }> {
  const schema = freshSchemaName("lash_cluster_");
  schemas.push(schema);
  const open = async () => {
    const cluster = await createPostgresTurnCluster({
      connectionString: POSTGRES_URL,
      schema,
      pollIntervalMs: 50,
      onError: () => undefined,
    });
    opened.push(cluster);
    return cluster;
  };
  return { a: await open(), b: await open(), schema };
}

async function sql(text: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

const turn: ClusterTurnKey = { sessionId: "session-1", turnId: "turn-1" };

describe.skipIf(!postgresEnabled)("the PostgreSQL turn cluster", () => {
  it("tells every instance which instance runs a turn, and how it ended", async () => {
    const { a, b } = await openPair();
    a.announce("http://127.0.0.1:1111");
    expect(await b.findTurn(turn)).toBeUndefined();
    await a.turnStarted(turn);
    expect(await b.findTurn(turn)).toEqual({ state: "running", instanceId: a.instanceId, url: "http://127.0.0.1:1111" });
    // A turn of another session with the same id is another turn.
    expect(await b.findTurn({ sessionId: "session-2", turnId: "turn-1" })).toBeUndefined();
    await a.turnEnded(turn, { event: "result", eventId: 7, data: '{"turnId":"turn-1"}' });
    expect(await b.findTurn(turn)).toEqual({ state: "ended", ending: { event: "result", eventId: 7, data: '{"turnId":"turn-1"}' } });
  });

  it("carries a cancel to the instance that runs the turn, and resolves once it ended there", async () => {
    const { a, b } = await openPair();
    const asked: ClusterTurnKey[] = [];
    a.onCancelRequest((key) => {
      asked.push(key);
      // The owner cancels its stream; the turn then ends, and its ending is written.
      if (asked.length === 1) void a.turnEnded(key, { event: "result", eventId: 3, data: "{}" });
    });
    await a.turnStarted(turn);
    expect(await b.cancelTurn(turn)).toEqual({ state: "ended", ending: { event: "result", eventId: 3, data: "{}" } });
    expect(asked[0]).toEqual(turn);
    // A turn that is not running resolves at once with what is known.
    expect(await b.cancelTurn({ sessionId: "session-1", turnId: "unknown" })).toBeUndefined();
  });

  it("names the turn of a session another live instance runs, and waits for it to end without cancelling it", async () => {
    const { a, b } = await openPair();
    a.announce("http://127.0.0.1:1111");
    expect(await b.runningTurnOf(turn.sessionId)).toBeUndefined();
    await a.turnStarted(turn);
    expect(await b.runningTurnOf(turn.sessionId)).toEqual({ turnId: turn.turnId, instanceId: a.instanceId, url: "http://127.0.0.1:1111" });
    // An instance's own turns are not "another instance's", and other sessions are not this one.
    expect(await a.runningTurnOf(turn.sessionId)).toBeUndefined();
    expect(await b.runningTurnOf("session-2")).toBeUndefined();

    const cancels: ClusterTurnKey[] = [];
    a.onCancelRequest((key) => cancels.push(key));
    const waited = b.waitForTurn(turn);
    await new Promise((resolve) => setTimeout(resolve, 120));
    await a.turnEnded(turn, { event: "result", eventId: 4, data: "{}" });
    expect(await waited).toEqual({ state: "ended", ending: { event: "result", eventId: 4, data: "{}" } });
    expect(cancels).toEqual([]);
    expect(await b.runningTurnOf(turn.sessionId)).toBeUndefined();
  });

  it("drops notifications that are not an instance's messages, and reads on", async () => {
    const { a, schema } = await openPair();
    const heard: ClusterTurnKey[] = [];
    a.onCancelRequest((key) => heard.push(key));
    const channel = clusterChannelName(schema);
    const hostile = [
      "not json",
      JSON.stringify({ v: 1, type: "cancel", sessionId: "session-1", turnId: "turn-1", extra: 1 }),
      JSON.stringify({ v: 1, type: "cancel", sessionId: "../../etc", turnId: "turn-1" }),
      JSON.stringify({ v: 9, type: "cancel", sessionId: "session-1", turnId: "turn-1" }),
      "x".repeat(7_000),
    ];
    for (const payload of hostile) await sql("select pg_notify($1, $2)", [channel, payload]);
    // Notifications arrive in the order they were sent: once this one is heard, the others were read and dropped.
    await sql("select pg_notify($1, $2)", [channel, JSON.stringify({ v: 1, type: "cancel", sessionId: "session-9", turnId: "turn-9" })]);
    while (heard.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(heard).toEqual([{ sessionId: "session-9", turnId: "turn-9" }]);
  });

  it("reads a turn whose instance stopped as abandoned, and a row it cannot read as unknown", async () => {
    const { a, b, schema } = await openPair();
    await a.turnStarted(turn);
    await a.close();
    // Closing ends the connection that held the instance's lock; PostgreSQL releases it as the backend exits.
    let known = await b.findTurn(turn);
    while (known?.state === "running") {
      await new Promise((resolve) => setTimeout(resolve, 10));
      known = await b.findTurn(turn);
    }
    expect(known).toEqual({ state: "abandoned", instanceId: a.instanceId });

    await b.turnEnded({ sessionId: "session-1", turnId: "turn-2" }, { event: "result", eventId: 2, data: "{}" });
    await sql(`update ${pg.escapeIdentifier(schema)}.lash_server_turns set terminal_data = $1 where turn_id = 'turn-2'`, ['{"a":\n1}']);
    expect(await b.findTurn({ sessionId: "session-1", turnId: "turn-2" })).toBeUndefined();
  });
});
