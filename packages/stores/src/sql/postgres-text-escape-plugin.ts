import {
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type ValueNode,
} from "kysely";

// PostgreSQL `text` cannot hold U+0000, while session ids, commit ids, usage sources and meta fields
// are arbitrary JavaScript strings. Every string the store sends is escaped with a prefix-free code
// that keeps code-point order (U+0000 → U+0001 U+0001, U+0001 → U+0001 U+0002, everything else
// itself), so `ORDER BY`, cursors and equality under the "C" collation still mean what they mean on
// the original strings, and every string read back is unescaped. JSON columns are unaffected:
// `JSON.stringify` already escapes both characters.

// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 and U+0001 are the characters this escapes
const ESCAPED = /[\u0000\u0001]/;

/** Escapes one string (identity unless it holds U+0000 or U+0001). */
export function escapePostgresText(text: string): string {
  if (!ESCAPED.test(text)) return text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 and U+0001 are the characters this escapes
  return text.replace(/[\u0000\u0001]/g, (character) => (character === "\u0000" ? "\u0001\u0001" : "\u0001\u0002"));
}

/** The inverse of `escapePostgresText`. A U+0001 not followed by U+0001 or U+0002 is kept as is. */
export function unescapePostgresText(text: string): string {
  if (!text.includes("\u0001")) return text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape sequences are made of U+0001 and U+0002
  return text.replace(/\u0001([\u0001\u0002])/g, (_match, code: string) => (code === "\u0001" ? "\u0000" : "\u0001"));
}

function escapeValue(value: unknown): unknown {
  return typeof value === "string" ? escapePostgresText(value) : value;
}

class EscapeParameters extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    return typeof node.value === "string" ? { ...node, value: escapePostgresText(node.value) } : node;
  }

  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return node.values.some((value) => typeof value === "string") ? { ...node, values: node.values.map(escapeValue) } : node;
  }
}

/** The Kysely plugin that applies the escape to parameters and removes it from result rows. */
export class PostgresTextEscapePlugin implements KyselyPlugin {
  readonly #transformer = new EscapeParameters();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const { result } = args;
    if (result.rows.length === 0) return result;
    const rows = result.rows.map((row) => {
      let copy: UnknownRow | undefined;
      for (const [column, value] of Object.entries(row)) {
        if (typeof value === "string" && value.includes("\u0001")) {
          copy ??= { ...row };
          copy[column] = unescapePostgresText(value);
        }
      }
      return copy ?? row;
    });
    return { ...result, rows };
  }
}
