import { describe, expect, it } from "vitest";
import { freshHexId, freshMessageId } from "./ids.js";

describe("fresh ids", () => {
  it("are a random UUID's 32 hex digits (version 4, RFC variant), all different, across many draws of random bytes", () => {
    const ids = Array.from({ length: 2_000 }, () => freshHexId());
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      // As in xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx with the dashes left out.
      expect(id[12]).toBe("4");
      expect("89ab").toContain(id[16]);
    }
    expect(new Set(ids).size).toBe(ids.length);
    // Every hex digit turns up in every free position: the bytes are not reused or left zero.
    const digitsAt = (position: number) => new Set(ids.map((id) => id[position]));
    for (const position of [0, 11, 13, 17, 31]) expect(digitsAt(position).size).toBe(16);
    expect(freshMessageId()).toMatch(/^m[0-9a-f]{32}$/);
  });
});
