import { HttpError } from "../http/http-error.js";

/**
 * Listing cursors are the store's own cursor, wrapped: a store takes any text as a position, so the
 * wrapper is what lets the server tell a cursor it produced from one a client made up or mangled
 * (400 `invalid_cursor`). A cursor is a position in an ordered listing, not a secret: it is not signed.
 */
const CURSOR_PREFIX = "lash.v1:";

export function encodeCursor(storeCursor: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${storeCursor}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): string {
  const invalid = () =>
    new HttpError("invalid_cursor", "the cursor is not one this server produced: pass a listing's nextCursor unchanged");
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  // Round-tripping rejects text that only decodes by accident (stray characters, a cut cursor).
  if (!text.startsWith(CURSOR_PREFIX) || encodeCursor(text.slice(CURSOR_PREFIX.length)) !== cursor) throw invalid();
  const storeCursor = text.slice(CURSOR_PREFIX.length);
  if (storeCursor === "") throw invalid();
  return storeCursor;
}
