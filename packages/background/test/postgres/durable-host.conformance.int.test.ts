import { describeBackgroundTaskHostConformance } from "@lash/testkit";
import { afterAll } from "vitest";
import { durableHarness } from "./durable-harness.js";

const harness = durableHarness();
afterAll(() => harness.dropAll());

describeBackgroundTaskHostConformance(harness);
