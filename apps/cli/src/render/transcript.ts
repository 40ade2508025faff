import type { Message, SessionNodeRecord, TurnStop } from "@lash/protocol";
import type { TerminalStyle } from "./terminal-style.js";
import { compactJson } from "./turn-text.js";

function textOf(message: Message, kinds: ReadonlySet<string>): string {
  return message.parts
    .filter((part) => kinds.has(part.kind))
    .map((part) => ("content" in part ? part.content : ""))
    .join("")
    .trim();
}

const USER_TEXT = new Set(["text"]);
const ASSISTANT_TEXT = new Set(["prose", "text", "output"]);

/** One line for a tool call's result: the status and the start of the value or the failure. */
function toolResultLine(node: SessionNodeRecord & { payload: { kind: "tool_invocation" } }, style: TerminalStyle): string {
  const record = node.payload.record;
  const outcome = record.output.outcome;
  if (outcome.status === "success")
    return `  ${style.green("✓")} ${record.tool} ${style.dim(compactJson(record.args, 60))} → ${compactJson(outcome.payload, 80)}`;
  return `  ${style.red("✗")} ${record.tool} ${style.dim(compactJson(record.args, 60))} → ${outcome.status}: ${outcome.payload.message}`;
}

/** How a stopped turn reads in a transcript: `cancelled`, `stopped: budget_exhausted (tokens)`, ... */
function stopLabel(stop: TurnStop): string {
  if (stop.type === "cancelled") return "cancelled";
  if (stop.type === "budget_exhausted") return `stopped: budget_exhausted (${stop.budget})`;
  if (stop.type === "tool_error") return `stopped: tool_error (${stop.toolName})`;
  if (stop.type === "stop_condition") return `stopped: stop_condition (${stop.name})`;
  // The turn went on once its calls were decided (`lash approve`), or still waits: both read "paused".
  if (stop.type === "awaiting_approval") return `paused for approval: ${stop.approvals.map((request) => request.tool).join(", ")}`;
  return `stopped: ${stop.type}`;
}

/**
 * The transcript of an active path: what the user typed, the assistant's prose, and each tool call
 * folded into one line (its arguments and the start of its result), and a line for each turn that
 * ended stopped (cancelled, a budget). Tool-result messages, reasoning
 * and mode records are left out: they are in `lash sessions export`.
 */
export function renderTranscript(nodes: readonly SessionNodeRecord[], style: TerminalStyle): string {
  const lines: string[] = [];
  for (const node of nodes) {
    const payload = node.payload;
    if (payload.kind === "tool_invocation") {
      lines.push(toolResultLine({ ...node, payload }, style));
      continue;
    }
    if (payload.kind === "turn_stopped") {
      lines.push(style.yellow(`(turn ${stopLabel(payload.stop)})`));
      continue;
    }
    if (payload.kind !== "message") continue;
    const message = payload.message;
    if (message.role === "user") {
      const text = textOf(message, USER_TEXT);
      if (text === "") continue;
      lines.push("", `${style.bold(style.cyan("you"))} ${style.dim(node.timestamp)}`, text);
    } else if (message.role === "assistant") {
      const text = textOf(message, ASSISTANT_TEXT);
      const errors = textOf(message, new Set(["error"]));
      if (text === "" && errors === "") continue;
      lines.push("", `${style.bold("assistant")} ${style.dim(node.timestamp)}`);
      if (text !== "") lines.push(text);
      if (errors !== "") lines.push(style.red(errors));
    }
  }
  return `${lines.join("\n").replace(/^\n/, "")}\n`;
}
