import { join } from "node:path";
import { defineTool } from "@lash/core";
import type { ToolDefinition } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { z } from "zod";
import type { ConfinedDirectory, OpenedFile } from "./confined-directory.js";
import { openConfinedDirectory } from "./confined-directory.js";
import { inspectConfinedPath, openConfinedFile } from "./confined-file-access.js";
import { replaceControlCharacters } from "./output-bounds.js";
import { RegexLineMatcher } from "./regex-line-matcher.js";
import type { WorkspaceToolContext } from "./workspace-tool-options.js";

const inputSchema = z.object({
  query: z.string().min(1).describe("The text to find (a regular expression when `regex` is true)."),
  path: z
    .string()
    .optional()
    .describe("The file or directory to search, relative to the working directory. Default: the working directory."),
  regex: z.boolean().optional().describe("Treat `query` as a JavaScript regular expression."),
  caseSensitive: z.boolean().optional().describe("Default false."),
});

/** Folders nobody means to search: version control and installed dependencies. */
const SKIPPED_DIRECTORIES = new Set([".git", "node_modules", ".hg", ".svn"]);
/** Files larger than this are skipped (generated bundles, data dumps). */
const MAX_SEARCHED_FILE_BYTES = 2 * 1024 * 1024;
/** Stops a search of a huge tree; the answer says it stopped. */
const MAX_SEARCHED_FILES = 20_000;
/** Characters of a line that are searched: a minified file's one huge line is matched on its start. */
const MAX_SEARCHED_LINE_CHARACTERS = 4096;

/**
 * `search_files`: `path:line: text` for each matching line, walking folders (binary files skipped).
 * Plain text is matched here; a regular expression is matched in a worker thread with a deadline
 * (`searchTimeoutMs` per file), so a pathological pattern fails with `search_timeout` instead of
 * blocking the process. Lines longer than 4 096 characters are matched on their start only, and
 * the answer counts them (`linesCut`).
 */
export function createSearchFilesTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "search_files",
    description:
      "Search files for text and answer `path:line: text` per matching line. Skips .git, node_modules, binary files and files over 2 MB.",
    inputSchema,
    async execute({ query, path = ".", regex = false, caseSensitive = false }, toolContext) {
      let pattern: RegExp;
      try {
        pattern = new RegExp(regex ? query : query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), caseSensitive ? "u" : "iu");
      } catch (error) {
        throw new ToolError({
          class: "invalid_request",
          code: "invalid_regex",
          message: `not a regular expression: ${(error as Error).message}`,
        });
      }
      const start = await context.guard.resolve(path);
      const matcher = regex ? new RegexLineMatcher(pattern.source, pattern.flags, context.searchTimeoutMs, toolContext.signal) : undefined;
      const matches: string[] = [];
      let bytes = 0;
      let filesSearched = 0;
      let linesCut = 0;
      let stoppedEarly = false;
      // Files are opened like read_file opens them (checked, regular files only, never blocking on a
      // pipe); one that cannot be opened or read is skipped, as an unreadable file always was.
      const searchFile = async (file: string, open: () => Promise<OpenedFile>): Promise<void> => {
        const opened = await open().catch(() => undefined);
        if (opened === undefined) return;
        let content: string | undefined;
        try {
          if (opened.info.size > MAX_SEARCHED_FILE_BYTES) return;
          filesSearched += 1;
          content = await opened.handle.readFile("utf8").catch(() => undefined);
        } finally {
          await opened.handle.close();
        }
        if (content === undefined || content.includes("\0")) return;
        const lines = content.split("\n").map((line) => {
          if (line.length <= MAX_SEARCHED_LINE_CHARACTERS) return line;
          linesCut += 1;
          return line.slice(0, MAX_SEARCHED_LINE_CHARACTERS);
        });
        const matching =
          matcher === undefined ? lines.flatMap((line, index) => (pattern.test(line) ? [index] : [])) : await matcher.match(lines);
        for (const index of matching) {
          const line = replaceControlCharacters((lines[index] ?? "").replace(/\r$/, ""));
          const shown = `${context.guard.display(file)}:${index + 1}: ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`;
          const lineBytes = Buffer.byteLength(shown, "utf8") + 1;
          if (matches.length >= context.limits.maxLines || bytes + lineBytes > context.limits.maxBytes) {
            stoppedEarly = true;
            return;
          }
          matches.push(shown);
          bytes += lineBytes;
        }
      };
      // Each folder is opened from its parent without following links and checked, so the walk
      // cannot be led out of the workspace by a folder swapped for a link while it runs.
      const walk = async (directory: ConfinedDirectory): Promise<void> => {
        const entries = await directory.list().catch(() => []);
        entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
        for (const entry of entries) {
          if (stoppedEarly || toolContext.signal.aborted) return;
          if (filesSearched >= MAX_SEARCHED_FILES) {
            stoppedEarly = true;
            return;
          }
          if (entry.isDirectory()) {
            if (SKIPPED_DIRECTORIES.has(entry.name)) continue;
            const child = await directory.openDirectory(entry.name, false).catch(() => undefined);
            if (child === undefined) continue;
            try {
              await walk(child);
            } finally {
              await child.close();
            }
          } else if (entry.isFile()) {
            await searchFile(join(directory.path, entry.name), () => directory.openFile(entry.name, "read"));
          }
        }
      };
      try {
        // Inside the `try`: the matcher's worker is closed however this ends.
        const info = await inspectConfinedPath(context.guard, start);
        if (info === undefined) throw new ToolError({ class: "not_found", code: "path_not_found", message: `${path} does not exist` });
        if (info.isDirectory()) {
          const directory = await openConfinedDirectory(context.guard, start, { create: false });
          try {
            await walk(directory);
          } finally {
            await directory.close();
          }
        } else {
          await searchFile(start, () => openConfinedFile(context.guard, start, "read"));
        }
      } finally {
        await matcher?.close();
      }
      toolContext.signal.throwIfAborted();
      return {
        matches,
        filesSearched,
        ...(stoppedEarly ? { truncated: true, hint: "more matches exist: narrow the query or the path" } : {}),
        ...(linesCut > 0
          ? {
              linesCut,
              linesCutHint: `${linesCut} line(s) longer than ${MAX_SEARCHED_LINE_CHARACTERS} characters were searched on their start only`,
            }
          : {}),
      };
    },
  });
}
