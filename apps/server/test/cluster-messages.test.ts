import { describe, expect, it } from "vitest";
import {
  clusterChannelName,
  formatClusterMessage,
  MAX_CLUSTER_MESSAGE_BYTES,
  parseClusterMessage,
} from "../src/cluster/cluster-messages.js";

describe("the messages instances send each other", () => {
  it("read back what an instance sends", () => {
    const cancel = { v: 1, type: "cancel", sessionId: "session-1", turnId: "turn-1" } as const;
    const ended = { v: 1, type: "ended", sessionId: "session-1", turnId: "turn-1" } as const;
    expect(parseClusterMessage(formatClusterMessage(cancel))).toEqual(cancel);
    expect(parseClusterMessage(formatClusterMessage(ended))).toEqual(ended);
  });

  it("drop anything else: not JSON, too long, other fields, other versions, ids the API would refuse", () => {
    const valid = { v: 1, type: "cancel", sessionId: "session-1", turnId: "turn-1" };
    const hostile: (string | undefined)[] = [
      undefined,
      "",
      "not json",
      "null",
      "[]",
      '"cancel"',
      JSON.stringify({ ...valid, v: 2 }),
      JSON.stringify({ ...valid, type: "drop_tables" }),
      JSON.stringify({ ...valid, extra: true }),
      JSON.stringify({ ...valid, sessionId: "../other" }),
      JSON.stringify({ ...valid, turnId: "" }),
      JSON.stringify({ ...valid, turnId: 7 }),
      JSON.stringify({ ...valid, sessionId: "x".repeat(10_000) }),
      `{"v":1,"type":"cancel","sessionId":"session-1","turnId":"turn-1","__proto__":{"polluted":true}}`,
      `${JSON.stringify(valid)}${" ".repeat(MAX_CLUSTER_MESSAGE_BYTES)}`,
      "[".repeat(5_000),
    ];
    for (const payload of hostile) expect(parseClusterMessage(payload), String(payload).slice(0, 80)).toBeUndefined();
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("use one channel per server schema, a valid identifier whatever the schema's name", () => {
    const names = [undefined, "tenant_a", "tenant_b", "x".repeat(63), 'quoted"schema'].map(clusterChannelName);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^lash_server_[0-9a-f]{16}$/);
    expect(clusterChannelName("tenant_a")).toBe(clusterChannelName("tenant_a"));
  });
});
