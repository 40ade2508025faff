import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { CliError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import { resolveEffectiveConfig } from "./effective-config.js";
import { normalizeStoreLocation } from "./store-location.js";

async function ioWith(env: NodeJS.ProcessEnv, config?: unknown): Promise<{ io: CliIo; home: string; cwd: string }> {
  const base = await mkdtemp(join(tmpdir(), "lash-config-"));
  const home = join(base, "home");
  const cwd = join(base, "work");
  await mkdir(join(home, ".lash"), { recursive: true });
  await mkdir(cwd);
  if (config !== undefined) await writeFile(join(home, ".lash", "config.json"), JSON.stringify(config));
  return {
    io: { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env, cwd, homeDirectory: home, debug: false },
    home,
    cwd,
  };
}

describe("resolveEffectiveConfig", () => {
  it("resolves relative paths of the config file against its folder, and of flags against the working directory", async () => {
    const { io, home, cwd } = await ioWith({}, { script: "scripts/s.json", store: "data/lash.db", allowedDirectories: ["../shared"] });
    const fromFile = await resolveEffectiveConfig({}, io);
    expect(fromFile.script.value).toBe(join(home, ".lash", "scripts", "s.json"));
    expect(fromFile.store.value).toBe(`sqlite:${join(home, ".lash", "data", "lash.db")}`);
    expect(fromFile.allowedDirectories.value).toEqual([join(home, "shared")]);
    // A script alone selects the scripted provider.
    expect(fromFile.provider).toEqual({ value: "scripted", source: { type: "file", path: join(home, ".lash", "config.json") } });
    const fromFlags = await resolveEffectiveConfig({ script: "mine.json", store: "fs:sessions" }, io);
    expect(fromFlags.script.value).toBe(join(cwd, "mine.json"));
    expect(fromFlags.store.value).toBe(`fs:${join(cwd, "sessions")}`);
  });

  it("picks a provider from the keys present when none is named, and never reads a key from the file", async () => {
    const { io } = await ioWith({ ANTHROPIC_API_KEY: "k" });
    const config = await resolveEffectiveConfig({}, io);
    expect(config.provider.value).toBe("anthropic");
    expect(config.model.value).toBe("claude-sonnet-4-5");
    expect(config.apiKey).toEqual({ value: "k", source: { type: "env", name: "ANTHROPIC_API_KEY" } });
    const none = await resolveEffectiveConfig({}, (await ioWith({})).io);
    expect(none.provider.value).toBeUndefined();
  });

  it("names a bad value by where it came from", async () => {
    const { io } = await ioWith({ LASH_TIMEOUT: "-3" });
    const error = await resolveEffectiveConfig({}, io).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe('LASH_TIMEOUT must be a number of seconds from 0.001 to 2147483, got "-3"');
    expect((error as CliError).exitCode).toBe(2);
    const badUrl = await resolveEffectiveConfig({ baseUrl: "not a url" }, io).catch((caught: unknown) => caught);
    expect((badUrl as CliError).message).toBe('--base-url must be a URL, got "not a url"');
  });
});

describe("normalizeStoreLocation", () => {
  it("keeps PostgreSQL URLs, resolves file paths, and reads a bare path as SQLite", () => {
    expect(normalizeStoreLocation("postgres://u@h/db?schema=x", "/w")).toBe("postgres://u@h/db?schema=x");
    expect(normalizeStoreLocation("sqlite:rel.db", "/w")).toBe("sqlite:/w/rel.db");
    expect(normalizeStoreLocation("sqlite:///abs/x.db", "/w")).toBe("sqlite:/abs/x.db");
    expect(normalizeStoreLocation("plain.db", "/w")).toBe("sqlite:/w/plain.db");
    expect(normalizeStoreLocation("fs:dir", "/w")).toBe("fs:/w/dir");
  });

  it("reads schemes case-insensitively, and refuses unknown or malformed ones instead of making them file names", () => {
    expect(normalizeStoreLocation("PostgreSQL://u@h/db", "/w")).toBe("postgresql://u@h/db");
    expect(normalizeStoreLocation("SQLITE:x.db", "/w")).toBe("sqlite:/w/x.db");
    expect(normalizeStoreLocation("./odd:name.db", "/w")).toBe("sqlite:/w/odd:name.db");
    expect(normalizeStoreLocation("C:\\lash.db", "/w")).toBe(`sqlite:${join("/w", "C:\\lash.db")}`);
    const failure = (raw: string): CliError => {
      try {
        normalizeStoreLocation(raw, "/w", "--store");
      } catch (error) {
        return error as CliError;
      }
      throw new Error(`${raw} was accepted`);
    };
    expect(failure("postgress://db/lash").message).toContain('--store "postgress://db/lash" has an unknown scheme "postgress:"');
    expect(failure("postgress://db/lash").hint).toBe("did you mean postgres://?");
    expect(failure("sqllite:x").hint).toBe("did you mean sqlite:?");
    expect(failure("postgres:/db").message).toBe('--store "postgres:/db" is malformed: a PostgreSQL URL starts with postgres://');
    expect(failure("sqlite://host/x.db").message).toContain("is malformed: a file location has no host");
    expect(failure("fs:").message).toBe('--store "fs:" names no file');
    expect(failure("sqllite:x").exitCode).toBe(2);
  });
});
