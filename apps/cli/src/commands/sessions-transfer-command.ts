import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { SessionMeta } from "@lash/protocol";
import { HeadRevisionConflictError } from "@lash/protocol";
import { CliError, usageError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import type { ConfigFlags } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import {
  buildSessionExport,
  decodeExportedAttachment,
  referencedAttachments,
  type SessionExport,
  sessionExportSchema,
} from "../sessions/session-export-format.js";
import { requireSession } from "../sessions/session-runtime.js";
import type { CliStore } from "../store/open-store.js";
import { withStore } from "./command-context.js";

/** The largest export `lash sessions import` reads: far above a session's images at the store's 20 MiB limit each. */
const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * `lash sessions export <id>`: meta, config, the full graph, the checkpoint, the ledger and the
 * images the session references (base64) as JSON on stdout (`session-export-format.ts`).
 */
export function sessionsExportCommand(sessionId: string, flags: ConfigFlags, io: CliIo): Promise<ExitCode> {
  return withStore(flags, io, async (store) => {
    await requireSession(store, sessionId);
    const session = store.openSession(sessionId);
    const [meta, read] = await Promise.all([session.loadSessionMeta(), session.loadSession({ type: "full_graph" })]);
    const exported = await buildSessionExport(sessionId, meta, read, store.attachments);
    io.stdout.write(`${JSON.stringify(exported, null, 2)}\n`);
    const missing = exported.missingAttachments ?? [];
    if (missing.length > 0) {
      io.stderr.write(
        `lash: ${plural(missing.length, "image")} of session ${sessionId} ${missing.length === 1 ? "is" : "are"} not in ${store.description} (stored before the store kept images); the export lists ${missing.length === 1 ? "it" : "them"} under missingAttachments\n`,
      );
    }
    return EXIT_CODES.finished;
  });
}

/** Reads the export file (`-`: stdin), bounded. */
async function readExportText(source: string, io: CliIo): Promise<string> {
  if (source !== "-") {
    const path = resolve(io.cwd, source);
    try {
      const content = await readFile(path);
      if (content.byteLength > MAX_IMPORT_BYTES) throw usageError(`${source} is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MiB`);
      return content.toString("utf8");
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw usageError(`cannot read ${source}: ${(error as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    length += bytes.byteLength;
    if (length > MAX_IMPORT_BYTES) {
      io.stdin.destroy();
      throw usageError(`the export read from stdin is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MiB`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses and checks an export file; every problem names where it is. */
function parseExport(text: string, source: string): SessionExport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`${source} is not JSON: ${(error as Error).message}`, "pass a file written by `lash sessions export`");
  }
  const parsed = sessionExportSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join(".") ?? "";
    throw usageError(
      `${source} is not a lash session export: ${path === "" ? "" : `at \`${path}\`: `}${issue?.message ?? "invalid"}`,
      "pass a file written by `lash sessions export`",
    );
  }
  return parsed.data;
}

/** True when the store already holds `sessionId` (a head or a meta). */
async function sessionExists(store: CliStore, sessionId: string): Promise<boolean> {
  const session = store.openSession(sessionId);
  return (await session.loadSessionMeta()) !== undefined || (await session.loadHeadRevision?.()) !== undefined;
}

function alreadyExists(sessionId: string, store: CliStore, cause?: unknown): CliError {
  return new CliError(`session ${sessionId} already exists in ${store.description}`, {
    exitCode: EXIT_CODES.usage,
    hint: "import it under another id with --as <id>, or remove the existing one with `lash sessions rm`",
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * `lash sessions import <file>`: stores a session from an export, images first (each checked against
 * its SHA-256 and stored durably before the commit that references them), then the graph, checkpoint
 * and ledger as the session's first commit, then its meta. `--as <id>` imports it under another id.
 * A session that already exists is refused; nothing of it is changed.
 */
export function sessionsImportCommand(source: string, flags: ConfigFlags & { readonly as?: string }, io: CliIo): Promise<ExitCode> {
  return withStore(flags, io, async (store) => {
    const document = parseExport(await readExportText(source, io), source === "-" ? "stdin" : source);
    if ((document.graph === undefined || document.config === undefined) && document.meta === null) {
      throw usageError(`${source} holds neither a session's graph nor its meta`, "pass a file written by `lash sessions export`");
    }
    const sessionId = flags.as ?? document.sessionId;
    if (sessionId === "") throw usageError("--as needs a session id");
    if (await sessionExists(store, sessionId)) throw alreadyExists(sessionId, store);

    const decoded = (document.attachments ?? []).map((attachment) => ({ attachment, bytes: decodeExportedAttachment(attachment) }));
    const broken = decoded.find((entry) => typeof entry.bytes === "string");
    if (broken !== undefined) throw usageError(`${source} is damaged: ${String(broken.bytes)}`, "export the session again");
    for (const { attachment, bytes } of decoded) {
      await store.attachments.put(bytes as Uint8Array, { mediaType: attachment.mediaType });
    }

    const { graph, config } = document;
    let images = 0;
    if (graph !== undefined && config !== undefined) {
      const checkpoint = document.checkpoint;
      if (checkpoint === undefined || checkpoint === null)
        throw usageError(`${source} has a graph but no checkpoint`, "export the session again");
      const referenced = referencedAttachments(graph, checkpoint);
      images = referenced.length;
      const absent: string[] = [];
      for (const id of referenced) if (!(await store.attachments.has(id))) absent.push(id);
      try {
        await store.openSession(sessionId).commit({
          sessionId,
          commitId: `import:${randomUUID()}`,
          config,
          graph: { type: "replace_full", graph },
          checkpoint,
          usageDeltas: document.tokenLedger ?? [],
          durability: "turn",
        });
      } catch (error) {
        // Another process created the session since the check above.
        if (HeadRevisionConflictError.isInstance(error)) throw alreadyExists(sessionId, store, error);
        throw error;
      }
      if (absent.length > 0) {
        io.stderr.write(
          `lash: ${plural(absent.length, "image")} the session references ${absent.length === 1 ? "is" : "are"} neither in the export nor in ${store.description}; a turn that sends ${absent.length === 1 ? "it" : "them"} to the model fails (attachment_resolution_failed)\n`,
        );
      }
    }
    if (document.meta !== null) {
      const meta: SessionMeta = { ...document.meta, sessionId };
      await store.openSession(sessionId).saveSessionMeta(meta);
    }
    io.stdout.write(`${sessionId}\n`);
    io.stderr.write(
      `imported session ${sessionId}${graph === undefined ? " (meta only)" : ` (${plural(graph.nodes.length, "node")}, ${plural(images, "image")})`}\n`,
    );
    return EXIT_CODES.finished;
  });
}
