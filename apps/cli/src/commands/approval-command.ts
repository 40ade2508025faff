import { stat } from "node:fs/promises";
import type { ApprovalDecision } from "@lash/protocol";
import { usageError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import type { ConfigFlags } from "../config/effective-config.js";
import { resolveEffectiveConfig } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import { formatPendingApprovals } from "../render/approval-view.js";
import { styleFor } from "../render/terminal-style.js";
import { openSessionRuntime, requireSession } from "../sessions/session-runtime.js";
import type { CliStore } from "../store/open-store.js";
import { cliTools } from "./command-context.js";
import { cliDecider, showTurn, withTurnCommand } from "./turn-command.js";

/** Flags of `lash approve` and `lash reject`. */
export interface ApprovalFlags extends ConfigFlags {
  /** Decide every request the session's turn waits on. */
  readonly all?: boolean;
  /** Why; a rejection's reason reaches the model. */
  readonly reason?: string;
  /** Who decides, as stored with the decision (default `cli:<user name>`). */
  readonly by?: string;
  readonly json?: boolean;
  readonly allowAnyPath?: boolean;
}

/** How far up the parent chain the working directory of a child session (a subagent) is looked for. */
const MAX_PARENT_HOPS = 8;

/**
 * Where the session's tools run: the working directory stored in its meta (or its parent's, for a
 * child session whose meta has none), so an approval given from another directory writes where the
 * turn asked; the current directory when no meta names one. A stored directory that is gone is a
 * usage error: the turn's paths would land somewhere else.
 */
async function sessionRoot(store: CliStore, sessionId: string, io: CliIo): Promise<string> {
  let id: string | undefined = sessionId;
  for (let hop = 0; id !== undefined && hop <= MAX_PARENT_HOPS; hop += 1) {
    const meta = await store.openSession(id).loadSessionMeta();
    if (meta?.cwd !== undefined) {
      const info = await stat(meta.cwd).catch(() => undefined);
      if (info?.isDirectory() !== true)
        throw usageError(
          `the working directory of session ${sessionId}, ${meta.cwd}, is no longer a folder`,
          "its tools would write elsewhere than the turn asked; `lash reject` still works once the folder is back",
        );
      return meta.cwd;
    }
    id = meta?.parentSessionId;
  }
  return io.cwd;
}

/**
 * `lash approve <session> [<id>...] [--all]` and `lash reject ...`: decide the calls a session's
 * turn waits on and continue that turn, in this process, rendered as `lash run` renders a turn.
 * Exit 0 when it finishes, 3 when requests remain (listed), 1 when it stops otherwise or another
 * process decided first, 2 for an unknown or already decided id. Without ids and `--all`, the open
 * requests are listed (exit 3, or 0 when there are none). The continued turn has no approver
 * either: a new call that needs approval makes it wait again.
 */
export async function approvalCommand(
  decision: ApprovalDecision["decision"],
  sessionId: string,
  ids: readonly string[],
  flags: ApprovalFlags,
  io: CliIo,
): Promise<ExitCode> {
  if (flags.all === true && ids.length > 0) throw usageError("give request ids or --all, not both");
  if (flags.by !== undefined && flags.by.trim() === "") throw usageError("--by needs a name");
  const config = await resolveEffectiveConfig(flags, io);
  return withTurnCommand(config, io, async ({ provider, store, environment, signal }) => {
    await requireSession(store, sessionId);
    const root = await sessionRoot(store, sessionId, io);
    const { runtime } = await openSessionRuntime({
      store,
      config,
      provider,
      tools: await cliTools(config, io, flags, root),
      cwd: root,
      sessionId,
      environment,
    });
    const err = styleFor(io.stderr, io.env);
    const pending = await runtime.pendingApprovals();
    if (ids.length === 0 && flags.all !== true) {
      if (flags.json === true) io.stdout.write(`${JSON.stringify(pending, null, 2)}\n`);
      if (pending.length === 0) {
        io.stderr.write(`${err.dim("lash:")} session ${sessionId} has no calls waiting for approval\n`);
        return EXIT_CODES.finished;
      }
      io.stderr.write(formatPendingApprovals(sessionId, pending, err));
      return EXIT_CODES.awaitingApproval;
    }
    // A child session's request (a subagent's) is decided in that session.
    const elsewhere = pending.find((request) => ids.includes(request.id) && request.sessionId !== sessionId);
    if (elsewhere !== undefined)
      throw usageError(
        `approval request ${elsewhere.id} belongs to session ${elsewhere.sessionId}`,
        `lash ${decision} ${elsewhere.sessionId} ${elsewhere.id}`,
      );
    // `--all` with nothing open still continues a turn whose requests were all decided (a process
    // killed after storing the decisions) or expired; with no such turn it says so (exit 2).
    const chosen = flags.all === true ? pending.filter((request) => request.sessionId === sessionId).map((request) => request.id) : ids;
    const decisions = chosen.map((id) => ({ id, decision, ...(flags.reason === undefined ? {} : { reason: flags.reason }) }));
    if (root !== io.cwd) io.stderr.write(`${err.dim("lash:")} the session's tools run in ${root}\n`);
    return showTurn(io, runtime.resumeTurn({ decisions, decidedBy: flags.by ?? cliDecider(io) }, { signal }), {
      sessionId,
      json: flags.json === true,
      signal,
      announceApprovals: true,
      retryHint: `the decisions are stored; \`lash approve ${sessionId} --all\` continues the turn from them`,
    });
  });
}
