import type { BackgroundTaskHostHarness } from "./harness.js";

/** One contract area of the suite: registers a `describe` block of tests against the harness. */
export type BackgroundHarnessArea = (harness: BackgroundTaskHostHarness) => void;
