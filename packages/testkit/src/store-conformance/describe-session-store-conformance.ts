import type { SessionHarnessArea } from "./area.js";
import { describeBinding } from "./binding.js";
import { describeCommitAndCas } from "./commit-and-cas.js";
import { describeConcurrency } from "./concurrency.js";
import { describeDeletion } from "./deletion.js";
import { describeDurability } from "./durability.js";
import { describeGraphDeltas } from "./graph-deltas.js";
import type { SessionStoreHarness } from "./harness.js";
import { describeIdempotency } from "./idempotency.js";
import { describeLargePayloads } from "./large-payloads.js";
import { describeListing } from "./listing.js";
import { describeMeta } from "./meta.js";
import { describeReadScopes } from "./read-scopes.js";
import { describeSummaries } from "./summaries.js";
import { describeSuspendedTurns } from "./suspended-turns.js";
import { describeTombstoneVacuumGc } from "./tombstone-vacuum-gc.js";
import { describeUnicode } from "./unicode.js";
import { describeUsage } from "./usage.js";
import { vitestApi } from "./vitest-api.js";

/** Every contract area, in the order the suite reports them. */
const areas: readonly SessionHarnessArea[] = [
  describeCommitAndCas,
  describeIdempotency,
  describeBinding,
  describeReadScopes,
  describeGraphDeltas,
  describeTombstoneVacuumGc,
  describeMeta,
  describeListing,
  describeSummaries,
  describeDeletion,
  describeUsage,
  describeSuspendedTurns,
  describeLargePayloads,
  describeUnicode,
  describeConcurrency,
  describeDurability,
];

/**
 * Registers the `SessionStore` conformance suite for one store implementation: call it at the top
 * level of a vitest test file. Every test gets a fresh backend from `harness.setup()` and closes it
 * afterwards. A capability the harness declares false replaces the tests that need it with one test
 * of the declared behaviour; when `harness.skipReason()` returns a string, the whole suite is
 * reported as skipped with that reason in its title.
 *
 * @example
 * describeSessionStoreConformance({
 *   name: "in-memory",
 *   capabilities: { activePathScope: true, durable: false },
 *   async setup() {
 *     const database = new InMemorySessionDatabase();
 *     return { openSession: (sessionId) => database.openSession(sessionId), factory: database, close: async () => {} };
 *   },
 * });
 */
export function describeSessionStoreConformance(harness: SessionStoreHarness): void {
  const { describe, it } = vitestApi();
  describe(`SessionStore conformance: ${harness.name}`, async () => {
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
