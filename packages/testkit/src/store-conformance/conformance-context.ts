import type { SessionStore } from "@lash/protocol";
import type { SessionStoreBackend, SessionStoreCapabilities, SessionStoreHarness } from "./harness.js";
import { vitestApi } from "./vitest-api.js";

/** What every test of the suite works with: a fresh backend per test, and the harness's capabilities. */
export interface ConformanceContext {
  readonly capabilities: SessionStoreCapabilities;
  /** The current test's backend (after `reopen()`, the reopened one). */
  backend(): SessionStoreBackend;
  /** A store bound to `sessionId` on the current backend (every call gives a new handle). */
  open(sessionId: string): Promise<SessionStore>;
  /** Closes the backend and opens it again over the same storage; the suite only calls it when `durable`. */
  reopen(): Promise<SessionStoreBackend>;
}

/** Long enough for a networked backend doing thousands of writes; a timeout, never a time assertion. */
export const SLOW_TEST_TIMEOUT_MS = 120_000;

/**
 * Registers the hooks that give each test of the enclosing `describe` its own backend from
 * `harness.setup()`, closed after the test (even when it failed).
 */
export function useBackend(harness: SessionStoreHarness): ConformanceContext {
  const { beforeEach, afterEach } = vitestApi();
  let current: SessionStoreBackend | undefined;

  beforeEach(async () => {
    current = await harness.setup();
  });
  afterEach(async () => {
    const backend = current;
    current = undefined;
    await backend?.close();
  });

  const backend = (): SessionStoreBackend => {
    if (current === undefined) throw new Error("the backend is only available inside a test (harness.setup() runs before each one)");
    return current;
  };
  return {
    capabilities: harness.capabilities,
    backend,
    open: async (sessionId) => backend().openSession(sessionId),
    reopen: async () => {
      const before = backend();
      if (before.reopen === undefined) {
        throw new Error(`harness "${harness.name}" declares capabilities.durable but its backend has no reopen()`);
      }
      // Until reopen() resolves, the old backend stays current, so afterEach still closes something.
      current = await before.reopen();
      return current;
    },
  };
}
