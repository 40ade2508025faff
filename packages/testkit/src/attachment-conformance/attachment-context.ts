import { vitestApi } from "../store-conformance/vitest-api.js";
import type {
  AttachmentStoreBackend,
  AttachmentStoreCapabilities,
  AttachmentStoreHarness,
  AttachmentStoreSetupOptions,
} from "./harness.js";

/** One contract area of the suite: registers a `describe` block of tests against the harness. */
export type AttachmentHarnessArea = (harness: AttachmentStoreHarness) => void;

/** What every test works with: a backend set up on demand, closed after the test. */
export interface AttachmentConformanceContext {
  readonly capabilities: AttachmentStoreCapabilities;
  /** Sets up the test's backend (once per test; a second call with other options closes the first). */
  backend(options?: AttachmentStoreSetupOptions): Promise<AttachmentStoreBackend>;
  /** Closes the backend and opens it again over the same storage (only when `durable`). */
  reopen(): Promise<AttachmentStoreBackend>;
}

/** Long enough for a networked backend writing a few megabytes; a timeout, never a time assertion. */
export const ATTACHMENT_TEST_TIMEOUT_MS = 120_000;

/** Registers the hooks that close each test's backend, even when the test failed. */
export function useAttachmentBackend(harness: AttachmentStoreHarness): AttachmentConformanceContext {
  const { afterEach } = vitestApi();
  let current: AttachmentStoreBackend | undefined;
  afterEach(async () => {
    const backend = current;
    current = undefined;
    await backend?.close();
  });
  return {
    capabilities: harness.capabilities,
    async backend(options = {}) {
      await current?.close();
      current = undefined;
      current = await harness.setup(options);
      return current;
    },
    async reopen() {
      const before = current;
      if (before === undefined) throw new Error("reopen() needs a backend: call backend() first");
      if (before.reopen === undefined)
        throw new Error(`harness "${harness.name}" declares capabilities.durable but its backend has no reopen()`);
      current = await before.reopen();
      return current;
    },
  };
}
