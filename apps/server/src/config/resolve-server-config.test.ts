import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveServerConfig } from "./resolve-server-config.js";
import { ServerConfigError } from "./server-config-file.js";

let directory: string;
let home: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "lash-server-config-"));
  home = join(directory, ".lash");
  await mkdir(home);
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("resolveServerConfig", () => {
  it("defaults: SQLite in LASH_HOME, 127.0.0.1:8787, 30 s grace, a default profile inferred from the keys", async () => {
    const config = await resolveServerConfig({}, { LASH_HOME: home, OPENAI_API_KEY: "sk-test" }, directory);
    expect(config).toMatchObject({ store: `sqlite:${join(home, "lash.db")}`, host: "127.0.0.1", port: 8787, gracePeriodMs: 30_000 });
    expect(config.profiles.default).toMatchObject({ provider: "openai", apiKey: "sk-test" });
  });

  it("takes the command's variables and config file for the default profile, flags over variables over files", async () => {
    await writeFile(
      join(home, "config.json"),
      JSON.stringify({ provider: "anthropic", model: "from-file", maxModelCalls: 5, store: "fs:sessions", theme: "ignored" }),
    );
    const config = await resolveServerConfig(
      { model: "from-flag", port: "0" },
      { LASH_HOME: home, LASH_MODEL: "from-env", LASH_MAX_TOKENS: "1000", ANTHROPIC_API_KEY: "key" },
      directory,
    );
    expect(config.profiles.default).toMatchObject({
      provider: "anthropic",
      model: "from-flag",
      maxModelCalls: 5,
      maxTokens: 1000,
      apiKey: "key",
    });
    expect(config.store).toBe(`fs:${join(home, "sessions")}`);
    expect(config.port).toBe(0);
  });

  it("reads named profiles from the server's config file; fields left out are the default profile's", async () => {
    const script = join(directory, "script.json");
    await writeFile(
      join(home, "server.json"),
      JSON.stringify({
        gracePeriodSeconds: 2.5,
        profiles: {
          default: { provider: "scripted", script: "../script.json", maxModelCalls: 9 },
          reviewer: { systemPrompt: "Review.", tools: true },
        },
      }),
    );
    const config = await resolveServerConfig({}, { LASH_HOME: home }, directory);
    expect(config.gracePeriodMs).toBe(2500);
    expect(config.profiles.default).toMatchObject({ provider: "scripted", script, maxModelCalls: 9 });
    expect(config.profiles.reviewer).toMatchObject({
      provider: "scripted",
      script,
      maxModelCalls: 9,
      systemPrompt: "Review.",
      tools: true,
    });
  });

  it("refuses bad values, naming where they came from", async () => {
    const refused = async (flags: object, env: NodeJS.ProcessEnv): Promise<string> => {
      try {
        await resolveServerConfig(flags, { LASH_HOME: home, ...env }, directory);
      } catch (error) {
        expect(error).toBeInstanceOf(ServerConfigError);
        return (error as Error).message;
      }
      throw new Error("expected a configuration error");
    };
    expect(await refused({ port: "70000" }, {})).toContain("--port");
    expect(await refused({}, { LASH_MAX_MODEL_CALLS: "0" })).toContain("LASH_MAX_MODEL_CALLS");
    expect(await refused({ provider: "gemini" }, {})).toContain("--provider");
    expect(await refused({ store: "postgress://db/lash" }, {})).toContain("unknown scheme");
    await writeFile(join(home, "server.json"), JSON.stringify({ profiles: { default: { provider: "openai", colour: "blue" } } }));
    expect(await refused({}, {})).toContain("profiles.default.colour");
    expect(await refused({ config: join(directory, "missing.json") }, {})).toContain("missing.json");
  });
});
