import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { ToolDefinition } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { defineTool } from "@lash/core";
import { z } from "zod";
import type { WorkspaceToolContext } from "./workspace-tool-options.js";

const inputSchema = z.object({
  path: z.string().describe("The file, relative to the working directory."),
  offset: z.number().int().min(1).optional().describe("The first line to read (1-based). Default 1."),
  limit: z.number().int().min(1).optional().describe("How many lines to read at most."),
});

/**
 * `read_file`: a file's lines, streamed so that a huge file is never read whole; output stops at
 * the line and byte limits and says where to continue (`nextOffset`).
 */
export function createReadFileTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "read_file",
    description: "Read a text file. Long files come in pieces: pass `offset` (the `nextOffset` of the previous answer) to continue.",
    inputSchema,
    async execute({ path, offset = 1, limit }, toolContext) {
      const absolute = await context.guard.resolve(path);
      const info = await stat(absolute).catch((error: unknown) => {
        throw new ToolError({ class: "not_found", code: "file_not_found", message: `cannot read ${path}: ${(error as Error).message}` });
      });
      if (!info.isFile()) throw new ToolError({ class: "invalid_request", code: "not_a_file", message: `${path} is not a file` });
      const maxLines = Math.min(limit ?? context.limits.maxLines, context.limits.maxLines);
      const lines: string[] = [];
      let bytes = 0;
      let lineNumber = 0;
      let nextOffset: number | undefined;
      const stream = createReadStream(absolute, { encoding: "utf8", signal: toolContext.signal });
      const reader = createInterface({ input: stream, crlfDelay: Infinity });
      try {
        for await (const line of reader) {
          lineNumber += 1;
          if (line.includes("\0")) throw new ToolError({ class: "invalid_request", code: "binary_file", message: `${path} is a binary file` });
          if (lineNumber < offset) continue;
          const lineBytes = Buffer.byteLength(line, "utf8") + 1;
          if (lines.length >= maxLines || (lines.length > 0 && bytes + lineBytes > context.limits.maxBytes)) {
            nextOffset = lineNumber;
            break;
          }
          // A single line longer than the byte limit is cut, so minified files stay readable.
          lines.push(lineBytes > context.limits.maxBytes ? `${Buffer.from(line).subarray(0, context.limits.maxBytes).toString("utf8").replace(/\uFFFD+$/u, "")} [line cut]` : line);
          bytes += Math.min(lineBytes, context.limits.maxBytes);
        }
      } finally {
        reader.close();
        stream.destroy();
      }
      return {
        path: context.guard.display(absolute),
        content: lines.join("\n"),
        startLine: offset,
        endLine: offset + lines.length - 1,
        ...(nextOffset === undefined ? { complete: true } : { complete: false, nextOffset }),
      };
    },
  });
}
