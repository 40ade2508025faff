import { describe, expect, it } from "vitest";
import { MAX_TOOL_NAME_LENGTH, namespacedToolNames } from "./tool-naming.js";

describe("namespacedToolNames", () => {
  it("names tools server__tool and replaces characters providers refuse", () => {
    const names = namespacedToolNames([
      { server: "github", tool: "create_issue" },
      { server: "docs.site", tool: "search pages" },
    ]);
    expect(names.get("github\u0000create_issue")).toBe("github__create_issue");
    expect(names.get("docs.site\u0000search pages")).toBe("docs_site__search_pages");
  });

  it("disambiguates names that collide after replacing, the same way whatever the order", () => {
    const tools = [
      { server: "a", tool: "x.y" },
      { server: "a", tool: "x_y" },
    ];
    const forward = namespacedToolNames(tools);
    const backward = namespacedToolNames([...tools].reverse());
    expect(forward).toEqual(backward);
    expect(forward.get("a\u0000x.y")).toMatch(/^a__x_y_[0-9a-f]{8}$/);
    expect(forward.get("a\u0000x_y")).toBe("a__x_y");
  });

  it("keeps long names within 64 characters, distinct", () => {
    const long = "t".repeat(80);
    const names = namespacedToolNames([
      { server: "server", tool: `${long}1` },
      { server: "server", tool: `${long}2` },
    ]);
    const [first, second] = [...names.values()];
    expect(first).toHaveLength(MAX_TOOL_NAME_LENGTH);
    expect(second).toHaveLength(MAX_TOOL_NAME_LENGTH);
    expect(first).not.toBe(second);
    for (const name of names.values()) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});
