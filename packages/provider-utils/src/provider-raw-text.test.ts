import { describe, expect, it } from "vitest";
import { truncateProviderRaw } from "./provider-raw-text.js";

describe("truncateProviderRaw", () => {
  it("only trims a short body", () => {
    expect(truncateProviderRaw('  {"error":1}\n')).toBe('{"error":1}');
  });

  it("keeps 2000 characters from each end of a long body", () => {
    const raw = `${"a".repeat(3_000)}${"b".repeat(3_000)}`;
    const cut = truncateProviderRaw(raw);
    expect(cut).toBe(`${"a".repeat(2_000)}\n\n... (2000 chars omitted) ...\n\n${"b".repeat(2_000)}`);
  });

  it("never splits a surrogate pair", () => {
    const raw = "😀".repeat(3_000);
    const cut = truncateProviderRaw(raw);
    // A lone surrogate would make the text unencodable: encoding and decoding would change it.
    expect(new TextDecoder().decode(new TextEncoder().encode(cut))).toBe(cut);
    expect(cut).toContain("chars omitted");
  });
});
