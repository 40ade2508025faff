import { describe, expect, it } from "vitest";
import { checkLayering, repositoryRoot, workspaceManifests } from "./check-layering.mjs";

const library = (name, dependencies = {}, devDependencies = {}) => ({ path: `packages/${name}/package.json`, kind: "library", manifest: { name, dependencies, devDependencies } });

describe("dependency layering", () => {
  it("holds for the packages in this repository", () => {
    expect(checkLayering(workspaceManifests(repositoryRoot))).toEqual([]);
  });

  it("rejects an edge the table does not allow", () => {
    const violations = checkLayering([library("@lash/protocol", { "@lash/core": "workspace:*" })]);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain("@lash/protocol -> @lash/core is not an allowed edge");
  });

  it("rejects a library that depends on an app", () => {
    const violations = checkLayering([
      library("@lash/core", { "@lash/cli": "workspace:*" }),
      { path: "apps/cli/package.json", kind: "app", manifest: { name: "@lash/cli", dependencies: { "@lash/core": "workspace:*" } } },
    ]);
    expect(violations.join("\n")).toContain("must not depend on the app @lash/cli");
  });

  it("rejects an unknown package and a bad adapter name", () => {
    const violations = checkLayering([
      library("@lash/mystery"),
      { path: "packages/adapters/x/package.json", kind: "adapter", manifest: { name: "@lash/x", dependencies: { "@lash/core": "workspace:*" } } },
    ]);
    expect(violations.some((violation) => violation.includes("@lash/mystery is not in the dependency table"))).toBe(true);
    expect(violations.some((violation) => violation.includes("adapter packages are named"))).toBe(true);
    expect(violations.some((violation) => violation.includes("@lash/x -> @lash/core"))).toBe(true);
  });

  it("allows the testkit only as a devDependency of libraries", () => {
    expect(checkLayering([library("@lash/core", { "@lash/protocol": "workspace:*" }, { "@lash/testkit": "workspace:*" })])).toEqual([]);
    expect(checkLayering([library("@lash/core", { "@lash/testkit": "workspace:*" })])).toHaveLength(1);
  });
});
