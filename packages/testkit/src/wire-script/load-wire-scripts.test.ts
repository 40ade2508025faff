import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bundledWireScriptsDirectory } from "./bundled-wire-scripts.js";
import { loadWireScripts, parseWireScript, WireScriptError } from "./load-wire-scripts.js";

/** Where the shared copy of the scripts lives on machines that have it. */
const SHARED_SCRIPTS_DIRECTORY = "/work/shared/fixtures/provider-wire-scripts";

const temporaryDirectories: string[] = [];

async function directoryWith(files: Record<string, unknown>): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "wire-scripts-"));
  temporaryDirectories.push(directory);
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(directory, name), typeof content === "string" ? content : JSON.stringify(content));
  }
  return directory;
}

async function loadFailure(directory: string): Promise<WireScriptError> {
  try {
    await loadWireScripts(directory);
  } catch (error) {
    if (error instanceof WireScriptError) return error;
    throw error;
  }
  throw new Error("expected loadWireScripts to fail");
}

function validScript(name: string): Record<string, unknown> {
  return {
    schema: "lash.provider-wire-script.v1",
    name,
    provider_kind: "openai-compatible",
    endpoint: { method: "POST", path: "/chat/completions" },
    request_match: { body: { "messages[0].role": { equals: "user" } } },
    timeline: [
      { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] },
      { at: 1, event: "sse", data: "[DONE]" },
      { at: 2, event: "end" },
    ],
  };
}

afterEach(async () => {
  for (const directory of temporaryDirectories.splice(0)) await rm(directory, { recursive: true, force: true });
});

describe("loadWireScripts", () => {
  it("loads every bundled script, sorted by name", async () => {
    const scripts = await loadWireScripts(bundledWireScriptsDirectory());
    expect(scripts).toHaveLength(21);
    const names = scripts.map((script) => script.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(scripts.map((script) => script.provider_kind))).toEqual(
      new Set(["anthropic", "codex", "google_oauth", "oauth_token", "openai", "openai-compatible"]),
    );
  });

  it("keeps only the requested provider kinds", async () => {
    const scripts = await loadWireScripts(bundledWireScriptsDirectory(), { providerKinds: ["anthropic"] });
    expect(scripts.map((script) => script.name)).toEqual(["anthropic.messages-hard-quota-400", "anthropic.messages-text-stream"]);
  });

  it.runIf(existsSync(SHARED_SCRIPTS_DIRECTORY))("bundles verbatim copies of the shared scripts", async () => {
    const shared = (await readdir(SHARED_SCRIPTS_DIRECTORY)).filter((name) => name.endsWith(".json")).sort();
    const bundled = (await readdir(bundledWireScriptsDirectory())).filter((name) => name.endsWith(".json")).sort();
    expect(bundled).toEqual(shared);
    for (const name of shared) {
      expect(await readFile(join(bundledWireScriptsDirectory(), name), "utf8"), name).toBe(
        await readFile(join(SHARED_SCRIPTS_DIRECTORY, name), "utf8"),
      );
    }
  });

  it("names the file of a script that is not JSON", async () => {
    const error = await loadFailure(await directoryWith({ "broken.json": "{ not json" }));
    expect(error.source).toBe("broken.json");
    expect(error.message).toContain("not valid JSON");
  });

  it("names the file and the field of an invalid script", async () => {
    const script = validScript("bad-status");
    (script.timeline as Record<string, unknown>[])[0] = { at: 0, event: "response_start", status: 99 };
    const error = await loadFailure(await directoryWith({ "bad-status.json": script, "ok.json": validScript("ok") }));
    expect(error.source).toBe("bad-status.json");
    expect(error.field).toBe("timeline[0].status");
    expect(error.message).toMatch(/^bad-status\.json: timeline\[0\]\.status: /);
  });

  it.each([
    ["an unknown event", { at: 0, event: "teleport" }, "timeline[0].event"],
    ["a chunk with both data and bytes", { at: 0, event: "chunk", data: "a", bytes: [1] }, "timeline[0]"],
    ["a byte out of range", { at: 0, event: "chunk", bytes: [256] }, "timeline[0].bytes[0]"],
    ["a negative offset", { at: -1, event: "end" }, "timeline[0].at"],
  ])("rejects %s", (_title, event, field) => {
    const script = validScript("s");
    script.timeline = [{ at: 0, event: "response_start", status: 200 }, event];
    const expectedField = field.replace("timeline[0]", "timeline[1]");
    expect(() => parseWireScript(script, "s.json")).toThrow(expect.objectContaining({ field: expectedField, source: "s.json" }));
  });

  it.each([
    [
      "events out of order",
      [
        { at: 5, event: "response_start", status: 200 },
        { at: 1, event: "end" },
      ],
      "timeline[1].at",
    ],
    [
      "an event after the end",
      [
        { at: 0, event: "response_start", status: 200 },
        { at: 1, event: "end" },
        { at: 2, event: "sse", data: "x" },
      ],
      "timeline[2].event",
    ],
    ["an sse event before the response started", [{ at: 0, event: "sse", data: "x" }], "timeline[0].event"],
    [
      "an http_error after the response started",
      [
        { at: 0, event: "response_start", status: 200 },
        { at: 1, event: "http_error", status: 500 },
      ],
      "timeline[1].event",
    ],
  ])("rejects a timeline with %s", (_title, timeline, field) => {
    expect(() => parseWireScript({ ...validScript("s"), timeline }, "s.json")).toThrow(expect.objectContaining({ field }));
  });

  it("rejects an unknown matcher and a malformed JSON path", () => {
    expect(() => parseWireScript({ ...validScript("s"), request_match: { body: { model: { matches: "gpt" } } } }, "s.json")).toThrow(
      expect.objectContaining({ field: "request_match.body.model" }),
    );
    expect(() => parseWireScript({ ...validScript("s"), request_match: { body: { "messages[x]": { equals: 1 } } } }, "s.json")).toThrow(
      expect.objectContaining({ field: "request_match.body.messages[x]" }),
    );
  });

  it("rejects a script whose name differs from its file name", async () => {
    const error = await loadFailure(await directoryWith({ "one.json": validScript("two") }));
    expect(error.field).toBe("name");
    expect(error.message).toContain('"two"');
  });

  it("rejects another format", () => {
    expect(() => parseWireScript({ ...validScript("s"), schema: "lash.provider-wire-script.v2" }, "s.json")).toThrow(
      expect.objectContaining({ field: "schema" }),
    );
  });
});
