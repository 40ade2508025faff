import { stat } from "node:fs/promises";
import { defineTool } from "@lash/core";
import type { ToolDefinition } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { z } from "zod";
import { writeConfinedFile } from "./confined-file-access.js";
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
      const existing = await stat(absolute).catch(() => undefined);
      if (existing?.isDirectory() === true)
        throw new ToolError({ class: "invalid_request", code: "not_a_file", message: `${path} is a directory` });
      const bytes = Buffer.byteLength(content, "utf8");
      await context.requireApproval({
        toolName: "write_file",
        kind: "write",
        summary: `${existing === undefined ? "create" : "overwrite"} ${context.guard.display(absolute)} (${bytes} byte${bytes === 1 ? "" : "s"})`,
        args: { path, bytes },
        signal: toolContext.signal,
      });
      await writeConfinedFile(context.guard, absolute, content);
      return { path: context.guard.display(absolute), bytesWritten: bytes, created: existing === undefined };
    },
  });
}
