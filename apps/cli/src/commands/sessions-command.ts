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
import { listSessionRows } from "../sessions/session-summaries.js";
import type { CliStore } from "../store/open-store.js";
import { withStore } from "./command-context.js";

/** `2026-11-29 15:02` in UTC: short, sortable, the same on every machine. */
function shortTime(iso: string | undefined): string {
  return iso === undefined ? "" : iso.replace("T", " ").slice(0, 16);
}

function cut(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** `lash sessions list`: id, title, model, turns, last activity, tokens; newest first. */
export function sessionsListCommand(
  flags: ConfigFlags & { readonly json?: boolean; readonly all?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  return withStore(flags, io, async (store) => {
    const rows = await listSessionRows(store, { includeChildren: flags.all === true });
    if (flags.json === true) {
      io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return EXIT_CODES.finished;
    }
    if (rows.length === 0) {
      io.stderr.write(`no sessions in ${store.description} (try \`lash demo\`)\n`);
      return EXIT_CODES.finished;
    }
    const table = formatTable(
      ["ID", "TITLE", "MODEL", "TURNS", "LAST ACTIVITY (UTC)", "TOKENS"],
      rows.map((row) => [
        row.sessionId,
        cut(row.parentSessionId === undefined ? row.title : `↳ child of ${row.parentSessionId.slice(0, 8)}`, 40),
        row.model,
        String(row.turns),
        shortTime(row.lastActivity),
        formatCount(row.tokens),
      ]),
      new Set([3, 5]),
    );
    io.stdout.write(`${table}\n`);
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

/** `lash sessions export <id>`: meta, config, the full graph, the checkpoint and the ledger as JSON. */
export function sessionsExportCommand(sessionId: string, flags: ConfigFlags, io: CliIo): Promise<ExitCode> {
  return withStore(flags, io, async (store) => {
    await requireSession(store, sessionId);
    const session = store.openSession(sessionId);
    const [meta, read] = await Promise.all([session.loadSessionMeta(), session.loadSession({ type: "full_graph" })]);
    const exported = {
      format: "lash.session-export.v1",
      sessionId,
      meta: meta ?? null,
      ...(read === undefined
        ? {}
        : {
            headRevision: read.headRevision,
            config: read.config,
            graph: read.graph,
            checkpoint: read.checkpoint ?? null,
            tokenLedger: read.tokenLedger,
          }),
    };
    io.stdout.write(`${JSON.stringify(exported, null, 2)}\n`);
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
    await requireSession(store, sessionId);
    const children = await descendantsOf(store, sessionId);
    for (const child of children) await store.openSession(child).deleteSession();
    await store.openSession(sessionId).deleteSession();
    io.stderr.write(
      `removed session ${sessionId}${children.length === 0 ? "" : ` and its ${children.length} child session${children.length === 1 ? "" : "s"}`}\n`,
    );
    return EXIT_CODES.finished;
  });
}
