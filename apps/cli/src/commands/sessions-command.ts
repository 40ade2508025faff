import type { CliIo } from "../cli-io.js";
import type { ConfigFlags } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import { styleFor } from "../render/terminal-style.js";
import { formatTable } from "../render/text-table.js";
import { renderTranscript } from "../render/transcript.js";
import { formatCount } from "../render/turn-text.js";
import { renderUsageReport, usageReportJson } from "../render/usage-report-view.js";
import { requireSession } from "../sessions/session-runtime.js";
import { listSessionRows, type SessionRow } from "../sessions/session-summaries.js";
import { type CliStore, damageDetail } from "../store/open-store.js";
import { withStore } from "./command-context.js";

/** `2026-11-29 15:02` in UTC: short, sortable, the same on every machine. */
function shortTime(iso: string | undefined): string {
  return iso === undefined ? "" : iso.replace("T", " ").slice(0, 16);
}

function cut(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** The TITLE cell: the title, or what is wrong with the session. */
function titleCell(row: SessionRow): string {
  if (row.problem !== undefined) return `damaged: ${row.problem.field}`;
  const title = row.parentSessionId === undefined ? row.title : `↳ child of ${row.parentSessionId.slice(0, 8)}`;
  return cut(row.empty === true ? `(empty) ${title}` : title, 40);
}

/**
 * `lash sessions list`: id, title, model, turns, last activity, tokens; newest first. A damaged
 * session is a row marked damaged (and explained on stderr); an empty one (a meta and no commit)
 * is shown only with `--all`, which also adds the child sessions.
 */
export function sessionsListCommand(
  flags: ConfigFlags & { readonly json?: boolean; readonly all?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  return withStore(flags, io, async (store) => {
    const all = flags.all === true;
    const { rows, hiddenEmpty } = await listSessionRows(store, { includeChildren: all, includeEmpty: all });
    if (flags.json === true) {
      io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return EXIT_CODES.finished;
    }
    const note = styleFor(io.stderr, io.env).dim("lash:");
    if (rows.length === 0) {
      io.stderr.write(`no sessions in ${store.description} (try \`lash demo\`)\n`);
    } else {
      const table = formatTable(
        ["ID", "TITLE", "MODEL", "TURNS", "LAST ACTIVITY (UTC)", "TOKENS"],
        rows.map((row) => [
          row.sessionId,
          titleCell(row),
          row.model,
          row.turns === null ? "?" : String(row.turns),
          shortTime(row.lastActivity),
          row.tokens === null ? "?" : formatCount(row.tokens),
        ]),
        new Set([3, 5]),
      );
      io.stdout.write(`${table}\n`);
    }
    const damaged = rows.filter((row) => row.problem !== undefined);
    if (damaged.length > 0) {
      io.stderr.write(
        `${note} ${plural(damaged.length, "session")} cannot be read (damaged stored data):\n${damaged
          .map((row) => `  ${row.sessionId} (${row.problem?.field ?? ""}): ${damageDetail(row.problem?.message ?? "")}\n`)
          .join("")}  the other sessions are not affected; \`lash sessions rm <id>\` removes a damaged one\n`,
      );
    }
    if (hiddenEmpty > 0) {
      io.stderr.write(
        `${note} ${plural(hiddenEmpty, "empty session")} (never committed) not shown; \`lash sessions list --all\` shows ${hiddenEmpty === 1 ? "it" : "them"}\n`,
      );
    }
    return EXIT_CODES.finished;
  });
}

/** `lash sessions show <id>`: the transcript of the active path, tool calls folded. */
export function sessionsShowCommand(sessionId: string, flags: ConfigFlags, io: CliIo): Promise<ExitCode> {
  return withStore(flags, io, async (store) => {
    await requireSession(store, sessionId);
    const session = store.openSession(sessionId);
    const [meta, read] = await Promise.all([session.loadSessionMeta(), session.loadSession({ type: "active_path" })]);
    const style = styleFor(io.stdout, io.env);
    io.stdout.write(
      `${style.bold(meta?.sessionName ?? sessionId)}\n${style.dim(`session ${sessionId} · model ${read?.config.model ?? meta?.model ?? "?"} · created ${meta?.createdAt ?? "?"}`)}\n\n`,
    );
    io.stdout.write(renderTranscript(read?.graph.nodes ?? [], style));
    return EXIT_CODES.finished;
  });
}

/** `lash sessions usage <id>`: the usage report and the cost table. */
export function sessionsUsageCommand(sessionId: string, flags: ConfigFlags & { readonly json?: boolean }, io: CliIo): Promise<ExitCode> {
  return withStore(flags, io, async (store) => {
    await requireSession(store, sessionId);
    const read = await store.openSession(sessionId).loadSession({ type: "active_path" });
    const ledger = read?.tokenLedger ?? [];
    if (flags.json === true) io.stdout.write(`${JSON.stringify(usageReportJson(ledger), null, 2)}\n`);
    else io.stdout.write(`${renderUsageReport(ledger, styleFor(io.stdout, io.env))}\n`);
    return EXIT_CODES.finished;
  });
}

/** The child sessions of `sessionId` (subagents), and theirs, depth first. */
async function descendantsOf(store: CliStore, sessionId: string): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listSessions({ parentSessionId: sessionId, limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    for (const child of page.sessions) found.push(...(await descendantsOf(store, child.sessionId)), child.sessionId);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return found;
}

/** `lash sessions rm <id>`: the session and the child sessions it created. */
export function sessionsRemoveCommand(sessionId: string, flags: ConfigFlags, io: CliIo): Promise<ExitCode> {
  return withStore(flags, io, async (store) => {
    await requireSession(store, sessionId, { allowDamaged: true });
    const children = await descendantsOf(store, sessionId);
    for (const child of children) await store.openSession(child).deleteSession();
    await store.openSession(sessionId).deleteSession();
    io.stderr.write(
      `removed session ${sessionId}${children.length === 0 ? "" : ` and its ${children.length} child session${children.length === 1 ? "" : "s"}`}\n`,
    );
    return EXIT_CODES.finished;
  });
}
