import { type BackgroundTaskEvent, BackgroundTaskHostClosedError, type BackgroundTaskStream, LashError } from "@lash/protocol";
import { lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { fromBackgroundTaskStream } from "./background-task-stream.js";
import { LocalBackgroundTaskHost } from "./local-background-task-host.js";

const scope = { sessionId: "s1" };

describe("LocalBackgroundTaskHost beyond the conformance suite", () => {
  it("refuses a concurrency limit that is not a positive integer", () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      let caught: unknown;
      try {
        new LocalBackgroundTaskHost({ maxConcurrentTasks: limit });
      } catch (error) {
        caught = error;
      }
      expect(LashError.isInstance(caught) && caught.code).toBe("invalid_configuration");
    }
  });

  it("a queued task with an external cancel policy that was asked to stop never runs once a slot frees", async () => {
    const host = new LocalBackgroundTaskHost({ maxConcurrentTasks: 1 });
    let release: () => void = () => {};
    const busy = new Promise<void>((resolve) => {
      release = resolve;
    });
    let queuedRan = false;
    await host.spawnManaged(scope, { id: "busy", kind: "other", producer: "test" }, () => busy);
    await host.spawnManaged(scope, { id: "queued", kind: "other", producer: "test", cancelPolicy: "external" }, async () => {
      queuedRan = true;
    });
    expect((await host.requestCancel("queued", "not needed")).state).toBe("cancel_requested");
    expect(await host.markLiveState(scope, "queued", "running")).toMatchObject({ state: "cancel_requested" });
    release();
    const ended = await host.waitForTerminal("queued");
    expect(ended).toMatchObject({ state: "cancelled", failure: { summary: "not needed" } });
    expect(queuedRan).toBe(false);
    await host.close();
  });

  it("close cancels work running here, releases waiters of tasks owned elsewhere, and completes streams", async () => {
    const host = new LocalBackgroundTaskHost();
    const events = lastValueFrom(host.subscribe().pipe(toArray()));
    let sawAbort = false;
    await host.spawnManaged(scope, { id: "running", kind: "other", producer: "test" }, async ({ signal }) => {
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      sawAbort = true;
    });
    await host.register({ id: "owned-elsewhere", kind: "other", producer: "test", scope });
    const waiting = host.waitForTerminal("owned-elsewhere").catch((error: unknown) => error);
    await host.close();
    expect(BackgroundTaskHostClosedError.isInstance(await waiting)).toBe(true);
    expect(await host.get("running")).toMatchObject({ state: "cancelled", failure: { summary: "host closed" } });
    expect((await host.get("owned-elsewhere"))?.state).toBe("pending");
    expect(sawAbort).toBe(true);
    expect((await events).map((event) => `${event.type}:${event.taskId}`)).toEqual([
      "registered:running",
      "registered:owned-elsewhere",
      "cancelled:running",
    ]);
    expect(() => host.spawnHidden(scope, "late", async () => {})).toThrow(/closed/);
  });

  it("fromBackgroundTaskStream gives an rxjs Observable over any host's stream", async () => {
    const items: BackgroundTaskEvent[] = [];
    const plain: BackgroundTaskStream<number> = {
      subscribe(observer) {
        observer.next?.(1);
        observer.next?.(2);
        observer.complete?.();
        return { unsubscribe: () => undefined };
      },
    };
    expect(await lastValueFrom(fromBackgroundTaskStream(plain).pipe(toArray()))).toEqual([1, 2]);
    const host = new LocalBackgroundTaskHost();
    const stream = host.subscribe();
    expect(fromBackgroundTaskStream(stream)).toBe(stream);
    fromBackgroundTaskStream(stream).subscribe((event) => items.push(event));
    await host.register({ id: "t", kind: "other", producer: "test", scope });
    expect(items.map((event) => event.type)).toEqual(["registered"]);
    await host.close();
  });
});
