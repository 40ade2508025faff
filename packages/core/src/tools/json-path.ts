const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Renders a path such as `$.items[2].name`, the form every argument failure the model sees uses;
 * keys that are not identifiers are quoted (`$["a b"]`).
 */
export function formatJsonPath(segments: Iterable<PropertyKey>): string {
  let path = "$";
  for (const key of segments) {
    if (typeof key === "number") path += `[${key}]`;
    else if (typeof key === "symbol") path += `[${String(key)}]`;
    else path += IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return path;
}

function decodeToken(token: string): string {
  let decoded: string;
  try {
    // @cfworker/json-schema writes instance locations URI-encoded (`odd%20key`).
    decoded = decodeURIComponent(token);
  } catch {
    // A token that does not decode is kept as written: a readable path beats no path.
    decoded = token;
  }
  return decoded.replaceAll("~1", "/").replaceAll("~0", "~");
}

/**
 * Turns an instance location (`#/items/2/name`, a URI fragment holding a JSON pointer) into path
 * segments. A pointer cannot tell an array index from a key made of digits, so the value is walked
 * alongside: a segment is a number only where the value there is an array.
 */
export function pointerToSegments(location: string, value: unknown): PropertyKey[] {
  const pointer = location.startsWith("#") ? location.slice(1) : location;
  if (pointer === "") return [];
  const segments: PropertyKey[] = [];
  let current: unknown = value;
  for (const token of pointer.slice(1).split("/")) {
    const key = decodeToken(token);
    if (Array.isArray(current) && /^(0|[1-9][0-9]*)$/.test(key)) {
      segments.push(Number(key));
      current = current[Number(key)];
    } else {
      segments.push(key);
      current = typeof current === "object" && current !== null && Object.hasOwn(current, key) ? Reflect.get(current, key) : undefined;
    }
  }
  return segments;
}
