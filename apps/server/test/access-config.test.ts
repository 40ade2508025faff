import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RateLimiter } from "../src/auth/rate-limiter.js";
import { resolveServerConfig } from "../src/config/resolve-server-config.js";
import { ServerConfigError } from "../src/config/server-config-file.js";
import { DEFAULT_RATE_LIMIT } from "../src/index.js";

let directory: string;
let home: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "lash-server-access-config-"));
  home = join(directory, ".lash");
  await mkdir(home);
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("the token bucket", () => {
  it("lets a burst through, then one request per interval, and never reads the wall clock", () => {
    let now = 0;
    const limiter = new RateLimiter({ requestsPerSecond: 2, burst: 2 }, () => now);
    expect([limiter.take("k"), limiter.take("k"), limiter.take("k")]).toEqual([0, 0, 1]);
    now += 500;
    expect([limiter.take("k"), limiter.take("k")]).toEqual([0, 1]);
    // Keys do not share buckets; a clock that goes backwards refills nothing.
    expect(limiter.take("other")).toBe(0);
    now -= 10_000;
    expect(limiter.take("k")).toBe(1);
    expect(() => new RateLimiter({ requestsPerSecond: 0, burst: 1 }, () => 0)).toThrow(RangeError);
    expect(() => new RateLimiter({ requestsPerSecond: 1, burst: 0.5 }, () => 0)).toThrow(RangeError);
  });
});

describe("access settings", () => {
  it("default to the default rate limit, no CORS, and loopback only", async () => {
    const config = await resolveServerConfig({}, { LASH_HOME: home }, directory);
    expect(config).toMatchObject({ rateLimit: DEFAULT_RATE_LIMIT, corsOrigins: [], insecureNoAuth: false, host: "127.0.0.1" });
  });

  it("come from flags over variables over the server's config file", async () => {
    await writeFile(
      join(home, "server.json"),
      JSON.stringify({
        rateLimit: { requestsPerSecond: 5, burst: 20 },
        corsOrigins: ["https://file.example"],
        maxImageBodyBytes: 1024,
      }),
    );
    const fromFile = await resolveServerConfig({}, { LASH_HOME: home }, directory);
    expect(fromFile).toMatchObject({
      rateLimit: { requestsPerSecond: 5, burst: 20 },
      corsOrigins: ["https://file.example"],
      maxImageBodyBytes: 1024,
    });
    const fromEnvironment = await resolveServerConfig(
      {},
      { LASH_HOME: home, LASH_SERVER_RATE_LIMIT: "0.5", LASH_SERVER_CORS_ORIGINS: "https://a.example, http://localhost:3000" },
      directory,
    );
    expect(fromEnvironment).toMatchObject({
      rateLimit: { requestsPerSecond: 0.5, burst: 20 },
      corsOrigins: ["https://a.example", "http://localhost:3000"],
    });
    const fromFlags = await resolveServerConfig(
      { rateBurst: "3", corsOrigins: ["*"], insecureNoAuth: true },
      { LASH_HOME: home, LASH_SERVER_RATE_LIMIT: "0.5" },
      directory,
    );
    expect(fromFlags).toMatchObject({ rateLimit: { requestsPerSecond: 0.5, burst: 3 }, corsOrigins: ["*"], insecureNoAuth: true });
    await writeFile(join(home, "server.json"), JSON.stringify({ rateLimit: false }));
    expect((await resolveServerConfig({}, { LASH_HOME: home }, directory)).rateLimit).toBe(false);
  });

  it("refuse origins with a path, other schemes and bad numbers, naming where they came from", async () => {
    const refused = async (flags: object, env: NodeJS.ProcessEnv): Promise<string> => {
      try {
        await resolveServerConfig(flags, { LASH_HOME: home, ...env }, directory);
      } catch (error) {
        expect(error).toBeInstanceOf(ServerConfigError);
        return (error as Error).message;
      }
      throw new Error("expected a configuration error");
    };
    expect(await refused({ corsOrigins: ["https://app.example/"] }, {})).toContain("--cors-origin");
    expect(await refused({}, { LASH_SERVER_CORS_ORIGINS: "ftp://files.example" })).toContain("LASH_SERVER_CORS_ORIGINS");
    expect(await refused({ rateLimit: "0" }, {})).toContain("--rate-limit");
    expect(await refused({ rateBurst: "1.5" }, {})).toContain("--rate-burst");
    await writeFile(join(home, "server.json"), JSON.stringify({ corsOrigins: ["app.example"] }));
    expect(await refused({}, {})).toContain("corsOrigins");
  });
});
