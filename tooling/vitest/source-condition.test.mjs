import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createViteServer } from "vitest/node";
import { lashProject } from "./index.js";

// Tests run in Vite's server-side (ssr) environment, so this resolves `@lash/protocol` the way a
// test in @lash/core does, with exactly the resolve options lashProject() gives every project.
const repository = fileURLToPath(new URL("../..", import.meta.url));
const consumer = `${repository}packages/core`;
const protocolSource = `${repository}packages/protocol/src/index.ts`;

let server;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function startServer({ resolve, ssr }) {
  server = await createViteServer({
    configFile: false,
    root: consumer,
    logLevel: "silent",
    appType: "custom",
    server: { middlewareMode: true, hmr: false, watch: null, ws: false },
    optimizeDeps: { noDiscovery: true, include: [] },
    resolve,
    ssr,
  });
  return server;
}

async function resolveProtocol(vite) {
  const resolved = await vite.environments.ssr.pluginContainer.resolveId("@lash/protocol", `${consumer}/src/index.ts`);
  return resolved?.id ?? null;
}

describe("the @lash/source export condition", () => {
  it("resolves a workspace package to its TypeScript source and loads it, whether or not dist exists", async () => {
    const vite = await startServer(lashProject("probe"));
    expect(await resolveProtocol(vite)).toBe(protocolSource);
    const protocol = await vite.ssrLoadModule("@lash/protocol");
    expect(Object.keys(protocol).length).toBeGreaterThan(0);
  });

  it("is what makes the difference: without it the package resolves to dist (or not at all)", async () => {
    const vite = await startServer({});
    expect(await resolveProtocol(vite)).not.toBe(protocolSource);
  });
});
