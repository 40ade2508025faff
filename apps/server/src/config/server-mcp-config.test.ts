import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveServerConfig } from "./resolve-server-config.js";
import { ServerConfigError } from "./server-config-file.js";

let directory: string;
let home: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "lash-server-mcp-config-"));
  home = join(directory, ".lash");
  await mkdir(home);
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("mcpServers in the server's configuration", () => {
  it("gives the default profile the command's servers, other profiles the default's unless they name their own", async () => {
    await writeFile(join(home, "config.json"), JSON.stringify({ mcpServers: { notes: { command: "notes-server", cwd: "work" } } }));
    await writeFile(
      join(home, "server.json"),
      JSON.stringify({
        profiles: { plain: {}, remote: { mcpServers: { docs: { url: "http://127.0.0.1:9000/mcp" } } }, none: { mcpServers: {} } },
      }),
    );
    const config = await resolveServerConfig({}, { LASH_HOME: home, OPENAI_API_KEY: "sk-test" }, directory);
    expect(config.profiles.default?.mcpServers).toEqual({ notes: { command: "notes-server", cwd: join(home, "work") } });
    expect(config.profiles.plain?.mcpServers).toEqual(config.profiles.default?.mcpServers);
    expect(config.profiles.remote?.mcpServers).toEqual({ docs: { url: "http://127.0.0.1:9000/mcp" } });
    expect(config.profiles.none?.mcpServers).toEqual({});
  });

  it("refuses a bad entry, naming the profile, the server and the field", async () => {
    await writeFile(
      join(home, "server.json"),
      JSON.stringify({ profiles: { default: { mcpServers: { docs: { url: "nope", header: {} } } } } }),
    );
    const attempt = resolveServerConfig({}, { LASH_HOME: home, OPENAI_API_KEY: "sk-test" }, directory);
    await expect(attempt).rejects.toThrow(ServerConfigError);
    await expect(attempt).rejects.toThrow(/`profiles\.default\.mcpServers`: docs\.url: .*`profiles\.default\.mcpServers`: docs\.header: /);
  });
});
