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

  it("lists the configured MCP servers by name, never their environment or headers", async () => {
    expect((await effective([])).mcpServers).toEqual({ value: [], source: "default" });
    await writeConfig({
      mcpServers: {
        notes: { command: "node", args: ["notes.mjs"], env: { NOTES_TOKEN: "secret-token" } },
        search: { url: "http://127.0.0.1:9/mcp", headers: { authorization: "Bearer secret-header" } },
      },
    });
    const result = await runLash(["config", "--json"], home);
    expect(JSON.parse(result.stdout).settings.mcpServers).toEqual({
      value: ["notes", "search"],
      source: `file ${join(home, ".lash", "config.json")}`,
    });
    expect(result.stdout).not.toContain("secret");
    const table = await runLash(["config"], home);
    expect(table.stdout).toMatch(/mcpServers\s+notes, search\s+file /);
    expect(table.stdout).not.toContain("secret");
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
    expect(badNumber.stderr).toContain('--max-model-calls must be a whole number from 1 to 100000, got "zero"');
    const badEnv = await runLash(["run", "--script", script, "hi"], home, { env: { LASH_MAX_TOKENS: "lots" } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('LASH_MAX_TOKENS must be a whole number from 1 to 1000000000, got "lots"');
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
    expect(help.stdout).toContain(
      "Exit codes: 0 finished, 1 stopped or failed, 2 bad usage or configuration, 3 waiting for approval, 130 cancelled.",
    );
  });
});

describe("numeric limits", () => {
  it("a --timeout beyond what a timer can hold is a usage error naming the flag, variable or field and the range", async () => {
    const script = await writeScript(home, "slow", [{ text: "in time", delayMs: 200 }]);
    const range = "must be a number of seconds from 0.001 to 2147483";
    // 3000000 s is more than 2^31-1 ms: a timer would fire at once (TimeoutOverflowWarning) and stop the turn.
    const flag = await runLash(["run", "--timeout", "3000000", "--script", script, "hi"], home);
    expect(flag.stderr).not.toContain("TimeoutOverflowWarning");
    expect(flag.stderr).toContain(`lash: error: --timeout ${range}, got "3000000"`);
    expect(flag.code).toBe(2);
    const env = await runLash(["run", "--script", script, "hi"], home, { env: { LASH_TIMEOUT: "2147484" } });
    expect(env.stderr).toContain(`lash: error: LASH_TIMEOUT ${range}, got "2147484"`);
    expect(env.code).toBe(2);
    await writeConfig({ timeoutSeconds: 1e10 });
    const file = await runLash(["run", "--script", script, "hi"], home);
    expect(file.stderr).toContain(
      `the config file ${join(home, ".lash", "config.json")} is invalid: \`timeoutSeconds\`: ${range}, got 10000000000`,
    );
    expect(file.code).toBe(2);
    // The largest accepted value works: the turn finishes in time.
    await writeConfig({});
    const largest = await runLash(["run", "--timeout", "2147483", "--script", script, "hi"], home);
    expect(largest.stderr).not.toContain("TimeoutOverflowWarning");
    expect(largest.stdout).toBe("in time\n");
    expect(largest.code).toBe(0);
  });

  it("every other numeric limit is checked against its range, from a flag, a variable or the file", async () => {
    const cases: [readonly string[], Record<string, string>, string][] = [
      [["--max-model-calls", "1e20"], {}, '--max-model-calls must be a whole number from 1 to 100000, got "1e20"'],
      [["--max-tokens", "0"], {}, '--max-tokens must be a whole number from 1 to 1000000000, got "0"'],
      [[], { LASH_MAX_CONTEXT_TOKENS: "1e9" }, 'LASH_MAX_CONTEXT_TOKENS must be a whole number from 1 to 100000000, got "1e9"'],
      [["--timeout", "0.0001"], {}, '--timeout must be a number of seconds from 0.001 to 2147483, got "0.0001"'],
      [["--request-timeout", "-1"], {}, '--request-timeout must be 0 (no limit) or a number of seconds from 0.001 to 2147483, got "-1"'],
      [
        [],
        { LASH_CHUNK_TIMEOUT: "3e9" },
        'LASH_CHUNK_TIMEOUT must be 0 (no limit) or a number of seconds from 0.001 to 2147483, got "3e9"',
      ],
    ];
    for (const [args, env, message] of cases) {
      const result = await runLash(["config", ...args], home, { env });
      expect(result.stderr, message).toContain(`lash: error: ${message}`);
      expect(result.code, message).toBe(2);
    }
    await writeConfig({ maxModelCalls: 2.5, maxContextTokens: 1e12 });
    const file = await runLash(["config"], home);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain("`maxModelCalls`: must be a whole number from 1 to 100000, got 2.5");
    expect(file.stderr).toContain("`maxContextTokens`: must be a whole number from 1 to 100000000, got 1000000000000");
  });
});

describe("commander's own errors", () => {
  it("read `lash: error: ...` and exit with 2, like every other usage error", async () => {
    const cases: [readonly string[], string][] = [
      [["run", "--bogus", "hi"], "lash: error: unknown option '--bogus'"],
      [["sessoins", "list"], "lash: error: unknown command 'sessoins'"],
      [["sessions", "show"], "lash: error: missing required argument 'id'"],
      [["sessions", "list", "extra"], "lash: error: too many arguments for 'list'"],
      [["run", "--timeout"], "lash: error: option '--timeout <seconds>' argument missing"],
      [["run", "--provider", "gemini", "hi"], "lash: error: option '--provider <name>' argument 'gemini' is invalid"],
    ];
    for (const [args, message] of cases) {
      const result = await runLash(args, home);
      // The first line of stderr is the error, with the prefix of every other error.
      expect(result.stderr.split("\n")[0], args.join(" ")).toContain(message);
      expect(result.stderr.startsWith("lash: error: "), args.join(" ")).toBe(true);
      expect(result.code, args.join(" ")).toBe(2);
    }
  });
});
