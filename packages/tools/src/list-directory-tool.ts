import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { defineTool } from "@lash/core";
import type { ToolDefinition } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { z } from "zod";
import { replaceControlCharacters } from "./output-bounds.js";
import type { WorkspaceToolContext } from "./workspace-tool-options.js";

const inputSchema = z.object({
  path: z.string().optional().describe("The directory, relative to the working directory. Default: the working directory."),
});

/** `list_directory`: a directory's entries, folders first (with a trailing `/`), files with sizes. */
export function createListDirectoryTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "list_directory",
    description: "List the entries of a directory: folders end with `/`, files show their size in bytes.",
    inputSchema,
    async execute({ path = "." }) {
      const absolute = await context.guard.resolve(path);
      const entries = await readdir(absolute, { withFileTypes: true }).catch((error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        throw new ToolError({
          class: code === "ENOENT" ? "not_found" : "invalid_request",
          code: code === "ENOTDIR" ? "not_a_directory" : "directory_unreadable",
          message: `cannot list ${path}: ${(error as Error).message}`,
        });
      });
      entries.sort(
        (left, right) =>
          Number(right.isDirectory()) - Number(left.isDirectory()) || (left.name < right.name ? -1 : left.name > right.name ? 1 : 0),
      );
      const shown = entries.slice(0, context.limits.maxLines);
      const lines = await Promise.all(
        shown.map(async (entry) => {
          // A file name may hold control characters: replaced as in every answer, so JSON escaping cannot grow it.
          const name = replaceControlCharacters(entry.name);
          if (entry.isDirectory()) return `${name}/`;
          if (entry.isSymbolicLink()) return `${name}@`;
          const size = await stat(join(absolute, entry.name)).then(
            (info) => info.size,
            () => undefined,
          );
          return size === undefined ? name : `${name} (${size} bytes)`;
        }),
      );
      // Names can be long (255 bytes each): the byte limit applies as well as the line limit.
      let bytes = 0;
      const kept = lines.filter((line) => {
        bytes += Buffer.byteLength(line, "utf8") + 1;
        return bytes <= context.limits.maxBytes;
      });
      return {
        path: context.guard.display(absolute),
        entries: kept,
        ...(entries.length > kept.length ? { truncated: true, totalEntries: entries.length } : {}),
      };
    },
  });
}
