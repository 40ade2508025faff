import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import packageJson from "../package.json" with { type: "json" };
import { runLash, temporaryDirectory, writeScript } from "./run-lash.js";

let home: string;

beforeEach(async () => {
  home = await temporaryDirectory();
  await mkdir(join(home, ".lash"));
});

async function writeConfig(config: unknown): Promise<void> {
  await writeFile(join(home, ".lash", "config.json"), typeof config === "string" ? config : JSON.stringify(config));
}

async function effective(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Record<string, { value: unknown; source: string }>> {
  const result = await runLash(["config", "--json", ...args], home, { env });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout).settings;
}

describe("configuration", () => {
  it("takes each setting from the flag, else the environment, else the config file, else the default", async () => {
    await writeConfig({ provider: "openai", model: "from-file", maxModelCalls: 7, baseUrl: "http://127.0.0.1:9/v1" });
    const configPath = join(home, ".lash", "config.json");
    const fromFile = await effective([]);
    expect(fromFile.model).toEqual({ value: "from-file", source: `file ${configPath}` });
    expect(fromFile.maxModelCalls).toEqual({ value: 7, source: `file ${configPath}` });
    expect(fromFile.maxContextTokens).toEqual({ value: 128000, source: "default" });
    expect(fromFile.store).toEqual({ value: `sqlite:${join(home, ".lash", "lash.db")}`, source: "env LASH_HOME" });
    const fromEnv = await effective([], { LASH_MODEL: "from-env", LASH_MAX_MODEL_CALLS: "9", OPENAI_API_KEY: "sk-test" });
    expect(fromEnv.model).toEqual({ value: "from-env", source: "env LASH_MODEL" });
    expect(fromEnv.maxModelCalls).toEqual({ value: 9, source: "env LASH_MAX_MODEL_CALLS" });
    // The key is reported as present, never printed.
    expect(fromEnv.apiKey).toEqual({ value: "(set)", source: "env OPENAI_API_KEY" });
    const fromFlag = await effective(["--model", "from-flag", "--store", "fs:sessions"], { LASH_MODEL: "from-env" });
    expect(fromFlag.model).toEqual({ value: "from-flag", source: "flag --model" });
    expect(fromFlag.store).toEqual({ value: `fs:${join(home, "sessions")}`, source: "flag --store" });
    // A model lash knows gets its own context window by default; a set value wins.
    const known = await effective(["--model", "gpt-5-mini"]);
    expect(known.maxContextTokens).toEqual({ value: 400000, source: "default" });
    const set = await effective(["--model", "gpt-5-mini", "--max-context-tokens", "64000"]);
    expect(set.maxContextTokens).toEqual({ value: 64000, source: "flag --max-context-tokens" });
  });

  it("prints a table with the source of each value", async () => {
    const result = await runLash(["config", "--provider", "scripted", "--max-model-calls", "9", "--timeout", "30"], home, {
      env: { LASH_MODEL: "m1" },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/provider\s+scripted\s+flag --provider/);
    expect(result.stdout).toMatch(/maxModelCalls\s+9\s+flag --max-model-calls/);
    expect(result.stdout).toMatch(/timeoutSeconds\s+30\s+flag --timeout/);
    expect(result.stdout).toMatch(/model\s+m1\s+env LASH_MODEL/);
    expect(result.stdout).toContain("(not present)");
  });

  it("a bad config file is a usage error naming the file and the fields", async () => {
    await writeConfig({ model: 5, colour: "blue" });
    const result = await runLash(["config"], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`lash: error: the config file ${join(home, ".lash", "config.json")} is invalid:`);
    expect(result.stderr).toContain("`model`");
    expect(result.stderr).toContain("`colour`");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    await writeConfig("{ not json");
    const notJson = await runLash(["sessions", "list"], home);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain("is not valid JSON");
  });

  it("bad flags and bad environment values are usage errors naming them", async () => {
    const script = await writeScript(home, "s", [{ text: "x" }]);
    const badNumber = await runLash(["run", "--max-model-calls", "zero", "--script", script, "hi"], home);
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain('--max-model-calls must be a positive integer, got "zero"');
    const badEnv = await runLash(["run", "--script", script, "hi"], home, { env: { LASH_MAX_TOKENS: "lots" } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain("LASH_MAX_TOKENS must be a positive integer");
    const badChoice = await runLash(["run", "--provider", "gemini", "hi"], home);
    expect(badChoice.code).toBe(2);
    expect(badChoice.stderr).toContain("Allowed choices are openai, anthropic, scripted");
    const badStore = await runLash(["sessions", "list", "--store", "postgres://u@[bad/x"], home);
    expect(badStore.code).toBe(2);
    expect(badStore.stderr).toContain('--store is not a valid PostgreSQL URL: "postgres://u@[bad/x"');
    const unknown = await runLash(["run", "--bogus", "hi"], home);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
    const unknownCommand = await runLash(["sessoins", "list"], home);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("unknown command 'sessoins'");
    const missingArgument = await runLash(["sessions", "show"], home);
    expect(missingArgument.code).toBe(2);
    expect(missingArgument.stderr).toContain("missing required argument 'id'");
    const badScript = await writeScript(home, "bad", [{ txt: "typo" }]);
    const invalidScript = await runLash(["run", "--script", badScript, "hi"], home);
    expect(invalidScript.code).toBe(2);
    expect(invalidScript.stderr).toContain(`the script ${badScript} is invalid`);
  });

  it("no provider configured: says how to configure one, exit 2", async () => {
    const result = await runLash(["run", "hello"], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("lash: error: no model provider is configured");
    expect(result.stderr).toContain("set OPENAI_API_KEY");
    expect(result.stderr).toContain("--provider scripted --script <file.json>");
  });

  it("an unwritable store path is a clear usage error; --debug adds the stack", async () => {
    const blocker = join(home, "a-file");
    await writeFile(blocker, "not a folder");
    const result = await runLash(["sessions", "list"], home, { env: { LASH_HOME: join(blocker, "lash") } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`lash: error: the store sqlite:${join(blocker, "lash", "lash.db")} cannot be used`);
    expect(result.stderr).toContain("set LASH_HOME to a writable folder");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const debug = await runLash(["--debug", "sessions", "list"], home, { env: { LASH_HOME: join(blocker, "lash") } });
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it("--version prints the package version, --help the commands and exit codes", async () => {
    const version = await runLash(["--version"], home);
    expect(version.stdout.trim()).toBe(packageJson.version);
    const help = await runLash(["--help"], home);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes: 0 finished, 1 stopped or failed, 2 bad usage or configuration, 130 cancelled.");
  });
});
