import type { Dirent } from "node:fs";
import { defineTool } from "@lash/core";
import type { ToolDefinition } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { z } from "zod";
import type { ConfinedDirectory } from "./confined-directory.js";
import { openConfinedDirectory } from "./confined-directory.js";
import { describeKind } from "./confinement-errors.js";
import { replaceControlCharacters } from "./output-bounds.js";
import type { WorkspaceToolContext } from "./workspace-tool-options.js";

const inputSchema = z.object({
  path: z.string().optional().describe("The directory, relative to the working directory. Default: the working directory."),
});

/** One entry as shown: `name/` for a folder, `name@` for a link, a size for a file, the kind for anything else. */
async function describeEntry(directory: ConfinedDirectory, entry: Dirent): Promise<string> {
  // A file name may hold control characters: replaced as in every answer, so JSON escaping cannot grow it.
  const name = replaceControlCharacters(entry.name);
  if (entry.isDirectory()) return `${name}/`;
  if (entry.isSymbolicLink()) return `${name}@`;
  // `lstat` through the open folder: never follows a link, never opens (a pipe cannot block it).
  const info = await directory.lstat(entry.name).catch(() => undefined);
  if (info === undefined) return name;
  // A pipe or device is named for what it is, so the model does not try to read it as a file.
  return info.isFile() ? `${name} (${info.size} bytes)` : `${name} (${describeKind(info).replace(/^an? /, "")})`;
}

/** `list_directory`: a directory's entries, folders first (with a trailing `/`), files with sizes. */
export function createListDirectoryTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "list_directory",
    description: "List the entries of a directory: folders end with `/`, files show their size in bytes.",
    inputSchema,
    async execute({ path = "." }) {
      const absolute = await context.guard.resolve(path);
      // Opened like a file is, one checked folder at a time: a folder swapped for a link is refused.
      const directory = await openConfinedDirectory(context.guard, absolute, { create: false }).catch((error: unknown) => {
        if (ToolError.isInstance(error) && error.failureCode === "file_not_found")
          throw new ToolError({ class: "not_found", code: "path_not_found", message: `cannot list ${path}: it does not exist` });
        throw error;
      });
      try {
        const entries = await directory.list().catch((error: unknown) => {
          throw new ToolError({
            class: "invalid_request",
            code: "directory_unreadable",
            message: `cannot list ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
          });
        });
        entries.sort(
          (left, right) =>
            Number(right.isDirectory()) - Number(left.isDirectory()) || (left.name < right.name ? -1 : left.name > right.name ? 1 : 0),
        );
        const shown = entries.slice(0, context.limits.maxLines);
        const lines = await Promise.all(shown.map((entry) => describeEntry(directory, entry)));
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
      } finally {
        await directory.close();
      }
    },
  });
}
