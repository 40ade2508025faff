import { describe, expect, it } from "vitest";
import { checkLayering, repositoryRoot, workspaceManifests } from "./check-layering.mjs";

const library = (name, dependencies = {}, devDependencies = {}) => ({
  path: `packages/${name.replace("@lash/", "")}/package.json`,
  kind: "library",
  manifest: { name, dependencies, devDependencies },
});

describe("dependency layering", () => {
  it("holds for the packages in this repository", () => {
    expect(checkLayering(workspaceManifests(repositoryRoot))).toEqual([]);
  });

  it("rejects an edge the table does not allow", () => {
    const violations = checkLayering([library("@lash/protocol", { "@lash/core": "workspace:*" })]);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain("@lash/protocol -> @lash/core is not an allowed edge");
  });

  it("rejects a peer or optional dependency edge the same way", () => {
    const stores = {
      path: "packages/stores/package.json",
      kind: "library",
      manifest: {
        name: "@lash/stores",
        peerDependencies: { "@lash/core": "workspace:*" },
        optionalDependencies: { "@lash/background": "workspace:*" },
      },
    };
    const violations = checkLayering([stores]);
    expect(violations).toHaveLength(2);
    expect(violations.join("\n")).toContain("@lash/stores -> @lash/core");
    expect(violations.join("\n")).toContain("@lash/stores -> @lash/background");
  });

  it("rejects a library that depends on an app", () => {
    const violations = checkLayering([
      library("@lash/core", { "@lash/cli": "workspace:*" }),
      { path: "apps/cli/package.json", kind: "app", manifest: { name: "@lash/cli", dependencies: { "@lash/core": "workspace:*" } } },
    ]);
    expect(violations.join("\n")).toContain("must not depend on the app @lash/cli");
  });

  it("rejects an unknown package, and an adapter that reaches past protocol or is misnamed", () => {
    const violations = checkLayering([
      library("@lash/mystery"),
      {
        path: "packages/adapters/x/package.json",
        kind: "adapter",
        manifest: { name: "@lash/x", dependencies: { "@lash/core": "workspace:*" } },
      },
    ]);
    expect(violations.some((violation) => violation.includes("@lash/mystery is not in the dependency table"))).toBe(true);
    expect(violations.some((violation) => violation.includes("must be named @lash/adapter-x, got @lash/x"))).toBe(true);
    expect(violations.some((violation) => violation.includes("@lash/x -> @lash/core"))).toBe(true);
  });

  it("rejects a package whose name does not match its directory", () => {
    const violations = checkLayering([{ path: "packages/kernel/package.json", kind: "library", manifest: { name: "@lash/core" } }]);
    expect(violations).toEqual(["packages/kernel/package.json: the package in this directory must be named @lash/kernel, got @lash/core"]);
  });

  it("allows the testkit only as a devDependency of libraries", () => {
    expect(checkLayering([library("@lash/core", { "@lash/protocol": "workspace:*" }, { "@lash/testkit": "workspace:*" })])).toEqual([]);
    expect(checkLayering([library("@lash/core", { "@lash/testkit": "workspace:*" })])).toHaveLength(1);
  });

  it("lets the stores use core in their tests and benchmark only, and nobody else", () => {
    expect(checkLayering([library("@lash/stores", { "@lash/protocol": "workspace:*" }, { "@lash/core": "workspace:*" })])).toEqual([]);
    expect(checkLayering([library("@lash/stores", { "@lash/core": "workspace:*" })])).toHaveLength(1);
    expect(checkLayering([library("@lash/testkit", {}, { "@lash/core": "workspace:*" })])).toHaveLength(1);
  });

  it("lets adapters use core in their end-to-end tests only", () => {
    const adapter = (dependencies, devDependencies) => ({
      path: "packages/adapters/openai/package.json",
      kind: "adapter",
      manifest: { name: "@lash/adapter-openai", dependencies, devDependencies },
    });
    expect(checkLayering([adapter({ "@lash/protocol": "workspace:*" }, { "@lash/core": "workspace:*" })])).toEqual([]);
    expect(checkLayering([adapter({ "@lash/core": "workspace:*" }, {})])).toHaveLength(1);
  });

  it("keeps tooling free of runtime packages", () => {
    const tooling = (devDependencies) => ({
      path: "tooling/vitest/package.json",
      kind: "tooling",
      manifest: { name: "@lash/vitest-config", devDependencies },
    });
    expect(checkLayering([tooling({ "@lash/tsconfig": "workspace:*" })])).toEqual([]);
    expect(checkLayering([tooling({ "@lash/protocol": "workspace:*" })])).toHaveLength(1);
  });
});
