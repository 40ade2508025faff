import { defineTool } from "@lash/core";
import type { ToolDefinition } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { z } from "zod";
import { readBoundedLines } from "./bounded-line-reader.js";
import { openConfinedFile } from "./confined-file-access.js";
import { replaceControlCharacters } from "./output-bounds.js";
import type { WorkspaceToolContext } from "./workspace-tool-options.js";

const inputSchema = z.object({
  path: z.string().describe("The file, relative to the working directory."),
  offset: z.number().int().min(1).optional().describe("The first line to read (1-based). Default 1."),
  limit: z.number().int().min(1).optional().describe("How many lines to read at most."),
});

const CUT_MARK = " [line cut]";

/** The longest prefix of `text` within `maxBytes` UTF-8 bytes, never splitting a character. */
function headBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  return Buffer.from(text, "utf8")
    .subarray(0, maxBytes)
    .toString("utf8")
    .replace(/\uFFFD+$/u, "");
}

/**
 * `read_file`: a file's lines, streamed so that a huge file is never read whole, and no line is
 * kept beyond what the answer can hold (a file of one huge line costs the byte limit, not the
 * line); output stops at the line and byte limits and says where to continue (`nextOffset`).
 */
export function createReadFileTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "read_file",
    description: "Read a text file. Long files come in pieces: pass `offset` (the `nextOffset` of the previous answer) to continue.",
    inputSchema,
    async execute({ path, offset = 1, limit }, toolContext) {
      const absolute = await context.guard.resolve(path);
      // A regular file only (a pipe or device is refused without blocking), checked once open.
      const { handle } = await openConfinedFile(context.guard, absolute, "read");
      let stream: ReturnType<typeof handle.createReadStream> | undefined;
      try {
        stream = handle.createReadStream({ signal: toolContext.signal });
        const { maxBytes } = context.limits;
        const maxLines = Math.min(limit ?? context.limits.maxLines, context.limits.maxLines);
        const lines: string[] = [];
        let bytes = 0;
        let lineNumber = 0;
        let nextOffset: number | undefined;
        // Lines before `offset` are skipped unkept; a later line keeps one byte more than the room
        // left, enough to tell it does not fit. The first line shown keeps up to the whole limit.
        const cap = (number: number): number => (number < offset ? 0 : lines.length === 0 ? maxBytes + 1 : maxBytes - bytes + 1);
        for await (const line of readBoundedLines(stream, cap)) {
          lineNumber += 1;
          if (line.hasZeroByte) throw new ToolError({ class: "invalid_request", code: "binary_file", message: `${path} is a binary file` });
          if (lineNumber < offset) continue;
          const text = replaceControlCharacters(line.bytes.toString("utf8").replace(/\r$/, ""));
          const lineBytes = Buffer.byteLength(text, "utf8") + 1;
          const tooLong = line.cut || lineBytes > maxBytes;
          if (lines.length >= maxLines || (lines.length > 0 && (tooLong || bytes + lineBytes > maxBytes))) {
            nextOffset = lineNumber;
            break;
          }
          // A single line longer than the byte limit is cut (mark included), so minified files stay readable.
          lines.push(tooLong ? `${headBytes(text, maxBytes - CUT_MARK.length)}${CUT_MARK}` : text);
          bytes += tooLong ? maxBytes : lineBytes;
        }
        return {
          path: context.guard.display(absolute),
          content: lines.join("\n"),
          startLine: offset,
          endLine: offset + lines.length - 1,
          ...(nextOffset === undefined ? { complete: true } : { complete: false, nextOffset }),
        };
      } finally {
        stream?.destroy();
        // The stream closes the handle when it is destroyed; closing again is harmless.
        await handle.close().catch(() => undefined);
      }
    },
  });
}
