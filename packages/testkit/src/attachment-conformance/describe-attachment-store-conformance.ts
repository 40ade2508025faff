import { vitestApi } from "../store-conformance/vitest-api.js";
import type { AttachmentHarnessArea } from "./attachment-context.js";
import { describeCollection } from "./collection.js";
import type { AttachmentStoreHarness } from "./harness.js";
import { describeLimits } from "./limits.js";
import { describeRoundTrip } from "./round-trip.js";
import { describeStreaming } from "./streaming.js";

/** Every contract area of the suite, in the order the suite reports them. */
const areas: readonly AttachmentHarnessArea[] = [describeRoundTrip, describeStreaming, describeLimits, describeCollection];

/**
 * Registers the `AttachmentStore` conformance suite for one implementation: call it at the top level
 * of a vitest test file. Each test sets up a fresh backend through `harness.setup()` and closes it
 * afterwards. When `harness.skipReason()` returns a string, the whole suite is reported as skipped
 * with that reason in its title.
 *
 * @example
 * describeAttachmentStoreConformance({
 *   name: "sqlite",
 *   capabilities: { durable: true },
 *   async setup({ maxAttachmentBytes }) {
 *     const database = createSqlSessionDatabase({ connection: "sqlite::memory:", maxAttachmentBytes });
 *     await database.migrateToLatest();
 *     return {
 *       store: database.attachments,
 *       ...sessionStoreReferences((sessionId) => database.openSession(sessionId)),
 *       close: () => database.destroy(),
 *     };
 *   },
 * });
 */
export function describeAttachmentStoreConformance(harness: AttachmentStoreHarness): void {
  const { describe, it } = vitestApi();
  describe(`AttachmentStore conformance: ${harness.name}`, async () => {
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
