export { describeBackgroundTaskHostConformance } from "./describe-background-task-host-conformance.js";
export type {
  BackgroundTaskHostCapabilities,
  BackgroundTaskHostCreateOptions,
  BackgroundTaskHostHarness,
  BackgroundTaskHostInstance,
} from "./harness.js";
