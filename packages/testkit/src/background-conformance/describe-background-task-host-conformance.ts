import { vitestApi } from "../store-conformance/vitest-api.js";
import type { BackgroundHarnessArea } from "./area.js";
import { describeCancellation } from "./cancellation.js";
import { describeClosePolicies } from "./close-policies.js";
import { describeDurability } from "./durability.js";
import { describeEvents } from "./events.js";
import { describeFiltersAndTransfer } from "./filters-and-transfer.js";
import type { BackgroundTaskHostHarness } from "./harness.js";
import { describeHiddenTasks } from "./hidden-tasks.js";
import { describeManaged } from "./managed.js";
import { describeRecordApi } from "./record-api.js";
import { describeRetriesAndConcurrency } from "./retries-and-concurrency.js";

/** Every contract area, in the order the suite reports them. */
const areas: readonly BackgroundHarnessArea[] = [
  describeRecordApi,
  describeFiltersAndTransfer,
  describeCancellation,
  describeEvents,
  describeClosePolicies,
  describeManaged,
  describeHiddenTasks,
  describeRetriesAndConcurrency,
  describeDurability,
];

/**
 * Registers the `BackgroundTaskHost` conformance suite for one host implementation: call it at the
 * top level of a vitest test file. Every test gets a fresh host from `harness.create()` and closes it
 * afterwards. The suite drives tasks through the record API (any host) and, when the harness declares
 * `inProcessWork`, through `spawnManaged` / `registerExternal` / `spawnHidden` with in-process
 * functions. A capability declared false replaces the tests that need it with one test of the declared
 * behaviour; when `harness.skipReason()` returns a string, the whole suite is reported as skipped with
 * that reason in its title. Tests never measure time: they wait for events and records, with vitest's
 * timeout as the only clock.
 *
 * @example
 * describeBackgroundTaskHostConformance({
 *   name: "local",
 *   capabilities: { inProcessWork: true, retries: true, concurrencyLimit: true, durable: false },
 *   async create(options) {
 *     const host = new LocalBackgroundTaskHost({ maxConcurrentTasks: options?.maxConcurrentTasks });
 *     return { host, close: () => host.close() };
 *   },
 * });
 */
export function describeBackgroundTaskHostConformance(harness: BackgroundTaskHostHarness): void {
  const { describe, it } = vitestApi();
  describe(`BackgroundTaskHost conformance: ${harness.name}`, async () => {
    const reason = await harness.skipReason?.();
    if (typeof reason === "string") {
      describe.skip(`skipped: ${reason === "" ? "(the harness gave no reason)" : reason}`, () => {
        it("every conformance test", () => {});
      });
      return;
    }
    for (const area of areas) area(harness);
  });
}
