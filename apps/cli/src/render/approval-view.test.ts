import type { ApprovalRequest } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { formatPendingApprovals } from "./approval-view.js";
import { styleFor } from "./terminal-style.js";

function request(id: string, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id,
    sessionId: "s-1",
    turnId: "t-1",
    turnIndex: 1,
    tool: "run_shell",
    args: { command: "ls" },
    summary: "run: ls",
    messageId: "m-1",
    modeIteration: 0,
    requestedAt: "2026-12-07T10:00:00.000Z",
    ...overrides,
  };
}

describe("the list of pending approvals", () => {
  const plain = styleFor({ isTTY: false }, {});

  it("one request: its id in the commands that answer it", () => {
    expect(formatPendingApprovals("s-1", [request("r-1")], plain)).toBe(
      [
        "? 1 call waits for approval in session s-1:",
        "  r-1  run_shell  run: ls",
        "  approve: lash approve s-1 r-1",
        '  reject:  lash reject s-1 r-1 --reason "<why>"',
        "",
      ].join("\n"),
    );
  });

  it("several: aligned columns, --all, arguments when there is no summary, control characters escaped", () => {
    const text = formatPendingApprovals(
      "s-1",
      [
        request("r-1", { summary: "run: echo \u001b[2Jgone" }),
        request("r-22", { tool: "custom", args: { a: 1 }, summary: undefined, sessionId: "child-1" }),
      ],
      plain,
    );
    expect(text).toContain("? 2 calls wait for approval in session s-1:\n");
    expect(text).toContain("  r-1   run_shell  run: echo \\u001b[2Jgone\n");
    expect(text).toContain('  r-22  custom     {"a":1} (session child-1)\n');
    expect(text).toContain("  approve: lash approve s-1 <id> (or --all)\n");
    expect(text).not.toContain("\u001b");
  });
});
