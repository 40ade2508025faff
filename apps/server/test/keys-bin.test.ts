import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { requestJson, waitUntil } from "./server-harness.js";

const directories: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "lash-server-keys-"));
  directories.push(directory);
  return directory;
}

function environment(directory: string): NodeJS.ProcessEnv {
  // A private home: no real ~/.lash and no keys from the machine reach the command.
  return { PATH: process.env.PATH ?? "", HOME: directory, LASH_HOME: join(directory, ".lash") };
}

/** Runs the bundled `lash-server` to the end. */
async function run(directory: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [inject("serverBundle"), ...args], {
    cwd: directory,
    env: environment(directory),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  return { code, stdout, stderr };
}

/** Starts the bundled server and waits for the line that names its URL. */
async function serve(directory: string, args: readonly string[]): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [inject("serverBundle"), "--port", "0", ...args], {
    cwd: directory,
    env: environment(directory),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = /^lash-server listening on (http:\/\/\S+)$/m.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("close", (code) => reject(new Error(`lash-server exited with ${code} before listening: ${stderr}`)));
  });
  return { url, child, stderr: () => stderr };
}

async function scriptFile(directory: string): Promise<string> {
  const path = join(directory, "script.json");
  await writeFile(
    path,
    JSON.stringify({ format: "lash.scripted-conversation.v1", model: "scripted-model", steps: [{ text: "Hello, acme." }] }),
  );
  return path;
}

describe("lash-server keys", () => {
  it("creates a key that a server on the same store then requires, lists keys without secrets, and revokes at once", async () => {
    const directory = await temporaryDirectory();
    const store = ["--store", `sqlite:${join(directory, "lash.db")}`];

    const created = await run(directory, ["keys", "create", "--tenant", "acme", "--name", "ci", ...store]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^lsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/);
    const key = created.stdout.trim();
    const id = key.slice(4, 16);
    expect(created.stderr).toContain(`created API key ${id} for tenant acme (ci)`);
    expect(created.stderr).toContain("only time the key is shown");

    const listed = await run(directory, ["keys", "list", ...store]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+acme\\s+ci\\s+\\S+Z\\s+active$`, "m"));
    const json = await run(directory, ["keys", "list", "--json", ...store]);
    expect(JSON.parse(json.stdout)).toEqual([{ id, prefix: `lsk_${id}`, tenant: "acme", name: "ci", createdAt: expect.any(String) }]);
    for (const output of [listed.stdout, listed.stderr, json.stdout, created.stderr]) expect(output).not.toContain(key.slice(-43));

    const server = await serve(directory, [...store, "--script", await scriptFile(directory)]);
    await waitUntil(() => server.stderr().includes("API keys required"));
    expect(await requestJson(`${server.url}/v1/sessions`, { body: {} })).toMatchObject({
      status: 401,
      body: { error: { code: "unauthorized" } },
    });
    const session = await requestJson(`${server.url}/v1/sessions`, { body: {}, headers: { authorization: `Bearer ${key}` } });
    expect(session.status).toBe(201);
    const sessionId = (session.body as { id: string }).id;
    const turn = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, {
      body: { input: "Hi" },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(turn).toMatchObject({ status: 200, body: { answer: { text: "Hello, acme." } } });

    // Revoked from another process while the server runs: refused from the next request on.
    const revoked = await run(directory, ["keys", "revoke", `lsk_${id}`, ...store]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await requestJson(`${server.url}/v1/sessions`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    expect((await run(directory, ["keys", "list", ...store])).stdout).toMatch(
      new RegExp(`^${id}\\s+acme\\s+ci\\s+\\S+\\s+revoked \\S+Z$`, "m"),
    );
    server.child.kill("SIGTERM");
    expect(await new Promise((resolve) => server.child.once("close", resolve))).toBe(0);
  });

  it("refuses bad tenants, bad commands and the memory: store with exit 2, and an unknown key with exit 1", async () => {
    const directory = await temporaryDirectory();
    const store = ["--store", `sqlite:${join(directory, "lash.db")}`];
    for (const args of [
      ["keys", "create", "--tenant", "Acme Corp", ...store],
      ["keys", "create", ...store],
      ["keys", "create", "--tenant", "acme", "--store", "memory:"],
      ["keys", "rotate", ...store],
      ["keys"],
      ["keys", "revoke", "not-an-id", ...store],
    ]) {
      const result = await run(directory, args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain("lash-server: error:");
      expect(result.stdout).toBe("");
    }
    const unknown = await run(directory, ["keys", "revoke", "0123456789ab", ...store]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no API key 0123456789ab");
  });
});

describe("lash-server without keys", () => {
  it("serves loopback only and says so; refuses another address with exit 2 unless --insecure-no-auth", async () => {
    const directory = await temporaryDirectory();
    const store = ["--store", `sqlite:${join(directory, "lash.db")}`, "--script", await scriptFile(directory)];
    const refused = await run(directory, ["--port", "0", "--host", "0.0.0.0", ...store]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain("refusing to listen on 0.0.0.0 without API keys");
    expect(refused.stdout).toBe("");

    const local = await serve(directory, store);
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await waitUntil(() => local.stderr().includes("serving loopback clients only, without credentials, as the tenant local"));
    expect((await requestJson(`${local.url}/v1/sessions`)).status).toBe(200);
    local.child.kill("SIGTERM");
    expect(await new Promise((resolve) => local.child.once("close", resolve))).toBe(0);

    const open = await serve(directory, ["--host", "0.0.0.0", "--insecure-no-auth", ...store]);
    await waitUntil(() => open.stderr().includes("warning: --insecure-no-auth"));
    open.child.kill("SIGTERM");
    expect(await new Promise((resolve) => open.child.once("close", resolve))).toBe(0);
  });
});
