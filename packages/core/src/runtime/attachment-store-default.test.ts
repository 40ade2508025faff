import type { AttachmentStore, SessionStore, SessionStoreCreateRequest, SessionStoreFactory } from "@lash/protocol";
import { ScriptedProvider, textStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { InMemoryAttachmentStore } from "../session/in-memory-attachment-store.js";
import { InMemorySessionDatabase } from "../session/in-memory-session-database.js";
import { LashRuntime } from "./lash-runtime.js";
import { RuntimeEnvironment } from "./runtime-environment.js";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 4, 2]);

const imageTurn = { items: [{ type: "image_ref" as const, id: "p" }], imageBlobs: { p: PNG } };

/** A store of `database` that carries `attachments`, as the durable stores do. */
function storeWithAttachments(
  database: InMemorySessionDatabase,
  sessionId: string,
  attachments: AttachmentStore | undefined,
): SessionStore {
  const store = database.openSession(sessionId);
  return {
    sessionId,
    attachments,
    loadSession: (scope) => store.loadSession(scope),
    loadHeadRevision: () => store.loadHeadRevision(),
    loadNode: (nodeId) => store.loadNode(nodeId),
    commit: (commit) => store.commit(commit),
    saveSessionMeta: (meta) => store.saveSessionMeta(meta),
    loadSessionMeta: () => store.loadSessionMeta(),
    listSessions: (query) => store.listSessions(query),
    deleteSession: () => store.deleteSession(),
    tombstoneNodes: (nodeIds) => store.tombstoneNodes(nodeIds),
    vacuum: () => store.vacuum(),
    gcUnreachable: () => store.gcUnreachable(),
  };
}

function factoryWithAttachments(database: InMemorySessionDatabase, attachments: AttachmentStore): SessionStoreFactory {
  return {
    attachments,
    createStore: (request: SessionStoreCreateRequest) => database.createStore(request),
  };
}

function provider(...answers: string[]): ScriptedProvider {
  return new ScriptedProvider(answers.map((answer) => textStep(answer)));
}

describe("which attachment store a runtime uses", () => {
  it("a runtime built on a store uses the store's attachments when the host gave none", async () => {
    const backend = new InMemoryAttachmentStore();
    const runtime = await LashRuntime.builder()
      .withProvider(provider("seen"))
      .withStore(storeWithAttachments(new InMemorySessionDatabase(), "s", backend))
      .build();
    await runtime.runTurn(imageTurn);
    const [part] = runtime.activeMessages()[0]?.parts ?? [];
    if (part?.kind !== "image") throw new Error("the turn stored no image part");
    expect(await backend.get(part.attachment.id)).toEqual(PNG);
  });

  it("an attachment store the host gives wins over the store's", async () => {
    const backend = new InMemoryAttachmentStore();
    const host = new InMemoryAttachmentStore();
    const runtime = await LashRuntime.builder()
      .withProvider(provider("seen"))
      .withAttachmentStore(host)
      .withStore(storeWithAttachments(new InMemorySessionDatabase(), "s", backend))
      .build();
    await runtime.runTurn(imageTurn);
    const [part] = runtime.activeMessages()[0]?.parts ?? [];
    if (part?.kind !== "image") throw new Error("the turn stored no image part");
    expect(await host.has(part.attachment.id)).toBe(true);
    expect(await backend.has(part.attachment.id)).toBe(false);
  });

  it("an environment on a factory with attachments uses them, and so do its runtimes and resumed sessions", async () => {
    const database = new InMemorySessionDatabase();
    const backend = new InMemoryAttachmentStore();
    const scripted = provider("first", "second");
    const environment = RuntimeEnvironment.builder()
      .withProvider(scripted)
      .withSessionStoreFactory(factoryWithAttachments(database, backend))
      .build();
    expect(environment.core.attachmentStore).toBe(backend);
    const runtime = await LashRuntime.builder().withEnvironment(environment).withStore(database.openSession("s")).build();
    await runtime.runTurn(imageTurn);
    const parked = await runtime.park();
    const resumed = await LashRuntime.resume(parked, environment);
    await resumed.runTurn("again");
    expect(scripted.requests[1]?.attachments.map((attachment) => attachment.data)).toEqual([PNG]);
  });

  it("a parked session resumed in an environment without a factory reads its images from its store's attachments", async () => {
    const database = new InMemorySessionDatabase();
    const backend = new InMemoryAttachmentStore();
    const scripted = provider("first", "second");
    const store = storeWithAttachments(database, "s", backend);
    const runtime = await LashRuntime.builder().withProvider(scripted).withStore(store).build();
    await runtime.runTurn(imageTurn);
    const parked = await runtime.park();
    const environment = RuntimeEnvironment.builder().withProvider(scripted).build();
    const resumed = await LashRuntime.resume(parked, environment);
    await resumed.runTurn("again");
    expect(scripted.requests[1]?.attachments.map((attachment) => attachment.data)).toEqual([PNG]);
  });
});
