import type { OutputUnit } from "@cfworker/json-schema";

/** One failure of @cfworker/json-schema's output, chosen to be shown: where in the value, and why. */
export interface JsonSchemaFailure {
  /** The instance location, a JSON pointer fragment such as `#/items/2`. */
  readonly instanceLocation: string;
  readonly reason: string;
}

/**
 * Keywords whose unit only says "a subschema had errors": the unit that follows explains it better.
 * (`propertyNames` too, its reason is prefixed so that the name, not the value, reads as wrong.)
 */
const WRAPPERS = new Set([
  "$ref",
  "$recursiveRef",
  "properties",
  "patternProperties",
  "additionalProperties",
  "unevaluatedProperties",
  "items",
  "prefixItems",
  "additionalItems",
  "unevaluatedItems",
  "allOf",
  "if",
  "dependentSchemas",
  "propertyNames",
]);
/** How many alternatives a failed `anyOf`/`oneOf` lists, so the message stays short. */
const MAX_LISTED_ALTERNATIVES = 5;

interface Explanation extends JsonSchemaFailure {
  readonly keyword: string;
}

/**
 * Picks the failure worth showing from a validation's output units, which come depth first: a
 * wrapper (`properties`, `$ref`, `items`, ...) is followed by the units of the subschema that failed,
 * so the first unit that is not a wrapper is the most specific reason. A failed `anyOf`/`oneOf` is
 * followed by every alternative's units: alternatives rejected only for the value's type say nothing
 * about it, so when exactly one alternative accepts the type its own failure is shown (a nullable
 * object with a bad field reports that field), and otherwise the alternatives' failures are listed.
 */
export function firstJsonSchemaFailure(
  units: readonly OutputUnit[],
  describePath: (instanceLocation: string) => string,
): JsonSchemaFailure {
  const explanation = explain(units, 0, describePath);
  return { instanceLocation: explanation.instanceLocation, reason: explanation.reason };
}

function explain(units: readonly OutputUnit[], start: number, describePath: (instanceLocation: string) => string): Explanation {
  let prefix = "";
  let index = start;
  for (;;) {
    const unit = units[index];
    if (unit === undefined) return { keyword: "", instanceLocation: "#", reason: `${prefix}the value does not match the schema` };
    const next = units[index + 1];
    if (unit.keyword === "anyOf" || unit.keyword === "oneOf") {
      const alternatives = explainAlternatives(units, index, describePath);
      return { ...alternatives, reason: `${prefix}${alternatives.reason}` };
    }
    if ((unit.keyword === "additionalProperties" || unit.keyword === "unevaluatedProperties") && next?.keyword === "false") {
      return {
        keyword: unit.keyword,
        instanceLocation: next.instanceLocation,
        reason: `${prefix}property is not allowed (the schema has ${unit.keyword}: false)`,
      };
    }
    if (!WRAPPERS.has(unit.keyword) || next === undefined) {
      const reason = unit.keyword === "false" ? "no value is allowed here (the schema is false)" : unit.error;
      return { keyword: unit.keyword, instanceLocation: unit.instanceLocation, reason: `${prefix}${reason}` };
    }
    if (unit.keyword === "propertyNames") prefix += "invalid property name: ";
    index += 1;
  }
}

function explainAlternatives(units: readonly OutputUnit[], index: number, describePath: (instanceLocation: string) => string): Explanation {
  const unit = units[index] as OutputUnit;
  const own: Explanation = { keyword: unit.keyword, instanceLocation: unit.instanceLocation, reason: unit.error };
  // A oneOf that failed because several alternatives matched (the validator's message counts them) has nothing
  // more specific to say: the alternatives that matched produced no units.
  if (unit.keyword === "oneOf" && !unit.error.includes("(0 matches)")) return own;
  const branchPrefix = `${unit.keywordLocation}/`;
  const branches = new Map<string, OutputUnit[]>();
  for (let next = index + 1; next < units.length; next += 1) {
    const candidate = units[next] as OutputUnit;
    if (!candidate.keywordLocation.startsWith(branchPrefix)) break;
    const branch = candidate.keywordLocation.slice(branchPrefix.length).split("/")[0] ?? "";
    let branchUnits = branches.get(branch);
    if (branchUnits === undefined) {
      branchUnits = [];
      branches.set(branch, branchUnits);
    }
    branchUnits.push(candidate);
  }
  const explanations = [...branches.values()].map((branchUnits) => explain(branchUnits, 0, describePath));
  const relevant = explanations.filter(
    (explanation) => !(explanation.keyword === "type" && explanation.instanceLocation === unit.instanceLocation),
  );
  const [only] = relevant;
  if (only !== undefined && relevant.length === 1) return only;
  const listed = relevant.length > 0 ? relevant : explanations;
  if (listed.length === 0) return own;
  const shown = listed
    .slice(0, MAX_LISTED_ALTERNATIVES)
    .map((explanation) => `${describePath(explanation.instanceLocation)}: ${explanation.reason}`);
  const more = listed.length > MAX_LISTED_ALTERNATIVES ? "; …" : "";
  return { ...own, reason: `${unit.error} (${shown.join("; ")}${more})` };
}
