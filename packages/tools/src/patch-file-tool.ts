import { defineTool } from "@lash/core";
import type { ToolDefinition } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { z } from "zod";
import { readConfinedFile, writeConfinedFile } from "./confined-file-access.js";
import type { WorkspaceToolContext } from "./workspace-tool-options.js";

const inputSchema = z.object({
  path: z.string().describe("The file to change, relative to the working directory."),
  oldText: z.string().min(1).describe("The exact text to replace; it must occur exactly once unless `replaceAll` is true."),
  newText: z.string().describe("The replacement."),
  replaceAll: z.boolean().optional().describe("Replace every occurrence. Default false."),
});

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let index = text.indexOf(needle); index !== -1; index = text.indexOf(needle, index + needle.length)) count += 1;
  return count;
}

/**
 * `patch_file`: replaces an exact piece of text, after approval. Exact text (not line numbers or a
 * diff) is what models reproduce most reliably, and "exactly once" catches a stale view of the file.
 */
export function createPatchFileTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "patch_file",
    description: "Replace an exact piece of text in a file (it must occur exactly once unless `replaceAll`). Needs the user's approval.",
    inputSchema,
    executionMode: "serial",
    async execute({ path, oldText, newText, replaceAll = false }, toolContext) {
      const absolute = await context.guard.resolve(path);
      const content = await readConfinedFile(context.guard, absolute);
      const occurrences = countOccurrences(content, oldText);
      if (occurrences === 0)
        throw new ToolError({ class: "invalid_request", code: "text_not_found", message: `the text to replace does not occur in ${path}` });
      if (occurrences > 1 && !replaceAll) {
        throw new ToolError({
          class: "invalid_request",
          code: "text_not_unique",
          message: `the text to replace occurs ${occurrences} times in ${path}: include more context or set replaceAll`,
        });
      }
      await context.requireApproval({
        toolName: "patch_file",
        kind: "write",
        summary: `patch ${context.guard.display(absolute)} (${occurrences} replacement${occurrences === 1 ? "" : "s"})`,
        args: { path, oldText, newText, replaceAll },
        signal: toolContext.signal,
      });
      const patched = replaceAll ? content.split(oldText).join(newText) : content.replace(oldText, () => newText);
      // Not created again if it was removed meanwhile: a patch applies to the file that was read.
      await writeConfinedFile(context.guard, absolute, patched, { create: false });
      return { path: context.guard.display(absolute), replacements: occurrences };
    },
  });
}
