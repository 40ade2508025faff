import { describe, expect, it } from "vitest";
import { HttpError } from "../http/http-error.js";
import { decodeCursor, encodeCursor } from "./session-cursor.js";

describe("listing cursors", () => {
  it("round-trip the store's cursor, whatever its characters", () => {
    for (const storeCursor of ["a", "3f2c0e1a-0b1c", "ids with spaces/and:colons", "ünïcödé ✓"]) {
      expect(decodeCursor(encodeCursor(storeCursor))).toBe(storeCursor);
    }
  });

  it("refuse cursors the server did not produce, with invalid_cursor", () => {
    const valid = encodeCursor("session-9");
    for (const cursor of ["", "not a cursor", "abc", valid.slice(0, -2), `${valid}=`, Buffer.from("other:x").toString("base64url")]) {
      let thrown: unknown;
      try {
        decodeCursor(cursor);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, cursor).toBeInstanceOf(HttpError);
      expect((thrown as HttpError).code).toBe("invalid_cursor");
    }
  });
});
