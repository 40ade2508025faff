/** Words that can never name a binding (plus the literals that look like names). */
const RESERVED = new Set([
  "arguments",
  "await",
  "break",
  "case",
  "catch",
  "class",
  "const",
  "continue",
  "debugger",
  "default",
  "delete",
  "do",
  "else",
  "enum",
  "eval",
  "export",
  "extends",
  "false",
  "finally",
  "for",
  "function",
  "if",
  "implements",
  "import",
  "in",
  "Infinity",
  "instanceof",
  "interface",
  "let",
  "NaN",
  "new",
  "null",
  "package",
  "private",
  "protected",
  "public",
  "return",
  "static",
  "super",
  "switch",
  "this",
  "throw",
  "true",
  "try",
  "typeof",
  "undefined",
  "var",
  "void",
  "while",
  "with",
  "yield",
]);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** True for a name the state snapshot may probe (an identifier that is not a reserved word). */
export function isBindingName(name: string): boolean {
  return IDENTIFIER.test(name) && !RESERVED.has(name);
}

/**
 * The names a cell may have bound at the top level: every identifier in its source that is not a
 * property access. Over-collecting is harmless (a name that resolves to nothing is skipped when the
 * state is saved), so words in strings and comments need no parser to be told apart.
 */
export function candidateNames(code: string): string[] {
  const names = new Set<string>();
  for (const match of code.matchAll(/(^|[^\w$.])([A-Za-z_$][\w$]*)/g)) {
    const name = match[2];
    if (name !== undefined && isBindingName(name)) names.add(name);
  }
  return [...names];
}
