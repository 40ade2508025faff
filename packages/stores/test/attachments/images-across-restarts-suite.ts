import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { bundleForChildProcess } from "@lash/test-infrastructure/child-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultBackendKind, openFaultBackend } from "../faults/fault-backends.js";
import { type FaultLocation, faultSkipReason, prepareFaultLocation } from "../faults/fault-locations.js";
import { type ImageTurnReport, sha256Hex, turnImage } from "./image-turn-fixtures.js";

const processSource = fileURLToPath(new URL("./image-turn-process.ts", import.meta.url));
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

let bundled: Promise<string> | undefined;
function processBundle(): Promise<string> {
  bundled ??= bundleForChildProcess({ entry: processSource, packageRoot, external: ["better-sqlite3", "pg", "pg-native"] });
  return bundled;
}

/** Runs one step in a fresh Node process and returns its report (the process has exited). */
async function step(kind: FaultBackendKind, location: string, sessionId: string, name: string): Promise<ImageTurnReport> {
  const child = spawn(process.execPath, [await processBundle(), kind, location, sessionId, name], {
    cwd: packageRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0 || stderr !== "") throw new Error(`image turn process exited ${code}: ${stderr}`);
  return JSON.parse(stdout.trim()) as ImageTurnReport;
}

/**
 * A session with an image turn, stored by one process, is continued by another process with a fresh
 * runtime and no attachment store of its own: the next model call carries the image's bytes, read
 * back from the store's attachments. Real stores, real processes, the model scripted.
 */
export async function describeImagesAcrossRestarts(kind: FaultBackendKind): Promise<void> {
  const skipReason = await faultSkipReason(kind);
  const skipped = skipReason === undefined ? "" : ` (skipped: ${skipReason})`;
  describe(`images across restarts (${kind})`, () => {
    let location: FaultLocation | undefined;
    beforeAll(async () => {
      if (skipReason === undefined) location = await prepareFaultLocation(kind);
    });
    afterAll(async () => {
      await location?.cleanup();
    });
    const image = turnImage();
    const expectedAttachment = { mediaType: "image/png", byteLength: image.byteLength, sha256: sha256Hex(image) };

    it.skipIf(skipReason !== undefined)(
      `a new process resumes the session and its next model call carries the image's bytes${skipped}`,
      { timeout: 120_000 },
      async () => {
        if (!location) throw new Error("no location");
        const first = await step(kind, location.location, "pictures", "first");
        expect(first).toMatchObject({ outcome: "finished", attachments: [expectedAttachment], imageBlocks: 1 });

        // The blob is in the store itself, beside the session that references it.
        const backend = await openFaultBackend(kind, location.location);
        try {
          const store = await backend.openSession("pictures");
          const stored = await store.attachments?.get(sha256Hex(image));
          expect(stored === undefined ? undefined : sha256Hex(stored)).toBe(sha256Hex(image));
        } finally {
          await backend.close();
        }

        const next = await step(kind, location.location, "pictures", "next");
        expect(next).toMatchObject({ outcome: "finished", attachments: [expectedAttachment], imageBlocks: 1 });
      },
    );

    it.skipIf(skipReason !== undefined)(
      `a runtime given an empty in-memory attachment store cannot load the image: the turn stops on attachment_resolution_failed${skipped}`,
      { timeout: 120_000 },
      async () => {
        if (!location) throw new Error("no location");
        expect(await step(kind, location.location, "forgotten", "first")).toMatchObject({ outcome: "finished" });
        const next = await step(kind, location.location, "forgotten", "next-in-memory");
        expect(next).toMatchObject({
          outcome: "stopped",
          stop: "provider_error",
          errorCodes: ["attachment_resolution_failed"],
          attachments: [],
        });
      },
    );
  });
}
