import type { SessionStoreHarness } from "./harness.js";

/** One contract area of the suite: registers a `describe` block of tests against the harness. */
export type SessionHarnessArea = (harness: SessionStoreHarness) => void;
