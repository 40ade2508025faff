import type { BackgroundTaskHost } from "@lash/protocol";
import { vitestApi } from "../store-conformance/vitest-api.js";
import type {
  BackgroundTaskHostCapabilities,
  BackgroundTaskHostCreateOptions,
  BackgroundTaskHostHarness,
  BackgroundTaskHostInstance,
} from "./harness.js";

/** What every test of the suite works with: a fresh host per test, closed after it. */
export interface HostTestContext {
  readonly capabilities: BackgroundTaskHostCapabilities;
  /** The current test's host (after `reopen()`, the new one). */
  host(): BackgroundTaskHost;
  /** Closes the current instance and creates another one with `options` (for tests that need options). */
  recreate(options: BackgroundTaskHostCreateOptions): Promise<BackgroundTaskHost>;
  /** Closes the host and opens a new one over the same storage; only called when `durable`. */
  reopen(): Promise<BackgroundTaskHost>;
}

/** A timeout for tests that wait on another process or a database, never a time assertion. */
export const HOST_TEST_TIMEOUT_MS = 30_000;

/** Registers hooks giving each test of the enclosing `describe` its own host from `harness.create()`. */
export function useHost(harness: BackgroundTaskHostHarness): HostTestContext {
  const { beforeEach, afterEach } = vitestApi();
  let current: BackgroundTaskHostInstance | undefined;

  beforeEach(async () => {
    current = await harness.create();
  });
  afterEach(async () => {
    const instance = current;
    current = undefined;
    await instance?.close();
  });

  const instance = (): BackgroundTaskHostInstance => {
    if (current === undefined) throw new Error("the host is only available inside a test (harness.create() runs before each one)");
    return current;
  };
  return {
    capabilities: harness.capabilities,
    host: () => instance().host,
    recreate: async (options) => {
      const before = instance();
      current = undefined;
      await before.close();
      current = await harness.create(options);
      return current.host;
    },
    reopen: async () => {
      const before = instance();
      if (before.reopen === undefined) {
        throw new Error(`harness "${harness.name}" declares capabilities.durable but its instance has no reopen()`);
      }
      current = await before.reopen();
      return current.host;
    },
  };
}
