/** `key`, `key[0]`, `a.b[1][2].c`: dot-separated keys, each followed by any number of indexes. */
const JSON_PATH = /^[^.[\]]+(?:\[\d+\])*(?:\.[^.[\]]+(?:\[\d+\])*)*$/;

/**
 * Splits a request-match JSON path (`messages[0].role`) into keys and indexes
 * (`["messages", 0, "role"]`); `undefined` when the path is malformed.
 */
export function parseJsonPath(path: string): (string | number)[] | undefined {
  if (!JSON_PATH.test(path)) return undefined;
  const segments: (string | number)[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    segments.push(match[2] !== undefined ? Number(match[2]) : (match[1] ?? ""));
  }
  return segments;
}
