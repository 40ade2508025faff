import { defineTool } from "@lash/core";
import type { ToolDefinition } from "@lash/protocol";
import { z } from "zod";
import { inspectConfinedPath, writeConfinedFile } from "./confined-file-access.js";
import { changedError, notRegularFileError } from "./confinement-errors.js";
import type { WorkspaceToolContext } from "./workspace-tool-options.js";

const inputSchema = z.object({
  path: z.string().describe("The file, relative to the working directory; missing folders are created."),
  content: z.string().describe("The whole new content of the file."),
});

/** `write_file`: creates or replaces a file, after approval. */
export function createWriteFileTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "write_file",
    description: "Create a file or replace its whole content. Needs the user's approval.",
    inputSchema,
    executionMode: "serial",
    async execute({ path, content }, toolContext) {
      const absolute = await context.guard.resolve(path);
      const display = context.guard.display(absolute);
      // Looked up through checked folders, never by following the path: what is there decides the
      // question to the user, and a directory, pipe or device is refused before anyone is asked.
      const existing = await inspectConfinedPath(context.guard, absolute);
      if (existing?.isSymbolicLink() === true) throw changedError(display);
      if (existing !== undefined && !existing.isFile()) throw notRegularFileError(display, existing);
      const bytes = Buffer.byteLength(content, "utf8");
      await context.requireApproval({
        toolName: "write_file",
        kind: "write",
        summary: `${existing === undefined ? "create" : "overwrite"} ${display} (${bytes} byte${bytes === 1 ? "" : "s"})`,
        args: { path, bytes },
        signal: toolContext.signal,
      });
      const { created } = await writeConfinedFile(context.guard, absolute, content);
      return { path: display, bytesWritten: bytes, created };
    },
  });
}
