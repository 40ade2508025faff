import type { ApprovalRequest, ApprovalResolution } from "@lash/protocol";
import type { TerminalStyle } from "./terminal-style.js";
import { compactJson, printable } from "./turn-text.js";

/**
 * What a request asks, as a person reads it: the tool's own description (`create out.txt (7
 * bytes)`), else its arguments. Escaped: the text comes from the model, and must not move the
 * cursor or forge a line of the terminal.
 */
export function approvalSummary(request: Pick<ApprovalRequest, "tool" | "args" | "summary">): string {
  return printable(request.summary ?? `${request.tool} ${compactJson(request.args)}`);
}

/** `write_file create out.txt (7 bytes)`: the tool and what it would do. */
export function approvalLine(request: Pick<ApprovalRequest, "tool" | "args" | "summary">): string {
  return request.summary === undefined ? approvalSummary(request) : `${request.tool} ${approvalSummary(request)}`;
}

/** `approved by cli:alice`, `rejected by cli:bob (not now)`, `rejected (expired)`: a decision in a few words. */
export function describeResolution(resolution: ApprovalResolution): string {
  if (resolution.source === "expiry") return "expired (nobody decided in time)";
  const by = resolution.decidedBy === undefined ? "" : ` by ${printable(resolution.decidedBy)}`;
  const reason = resolution.reason === undefined ? "" : ` (${printable(resolution.reason)})`;
  return `${resolution.decision}${by}${reason}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * The requests a session waits on, one per line (id, tool, what it would do), and the commands
 * that answer them. A request of a child session (a subagent) names its session: it is answered
 * there.
 */
export function formatPendingApprovals(sessionId: string, requests: readonly ApprovalRequest[], style: TerminalStyle): string {
  const idWidth = Math.max(...requests.map((request) => request.id.length));
  const toolWidth = Math.max(...requests.map((request) => request.tool.length));
  const rows = requests.map((request) => {
    const elsewhere = request.sessionId === sessionId ? "" : style.dim(` (session ${request.sessionId})`);
    const summary = request.summary ?? compactJson(request.args);
    return `  ${request.id.padEnd(idWidth)}  ${request.tool.padEnd(toolWidth)}  ${printable(summary)}${elsewhere}`;
  });
  const only = requests.length === 1 ? requests[0] : undefined;
  const id = only === undefined ? "<id>" : only.id;
  const session = only === undefined ? sessionId : only.sessionId;
  return [
    `${style.yellow("?")} ${plural(requests.length, "call")} ${requests.length === 1 ? "waits" : "wait"} for approval in session ${sessionId}:`,
    ...rows,
    `  approve: lash approve ${session} ${id}${requests.length > 1 ? ` (or --all)` : ""}`,
    `  reject:  lash reject ${session} ${id} --reason "<why>"`,
    "",
  ].join("\n");
}
