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

/** What a patch would do, as the checks made before the question (and again before writing) found it. */
interface PlannedPatch {
  readonly absolute: string;
  readonly content: string;
  readonly occurrences: number;
}

/** The checks of a patch: the path is confined, the file is readable, and the text occurs as asked. */
async function planPatch(
  context: WorkspaceToolContext,
  { path, oldText, replaceAll = false }: { readonly path: string; readonly oldText: string; readonly replaceAll?: boolean | undefined },
): Promise<PlannedPatch> {
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
  return { absolute, content, occurrences };
}

/**
 * `patch_file`: replaces an exact piece of text. Exact text (not line numbers or a diff) is what
 * models reproduce most reliably, and "exactly once" catches a stale view of the file. Every call
 * needs approval (the runtime's approver decides); a patch that cannot apply fails before anyone is
 * asked.
 */
export function createPatchFileTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "patch_file",
    description: "Replace an exact piece of text in a file (it must occur exactly once unless `replaceAll`). Needs the user's approval.",
    inputSchema,
    executionMode: "serial",
    needsApproval: async (input) => {
      // Throws the failed check's ToolError: a call that cannot succeed fails before anyone is asked.
      await planPatch(context, input);
      return true;
    },
    describeApproval: async (input) => {
      const { absolute, occurrences } = await planPatch(context, input);
      return `patch ${context.guard.display(absolute)} (${occurrences} replacement${occurrences === 1 ? "" : "s"})`;
    },
    async execute(input) {
      // Read and checked again: the file may have changed while the user was being asked.
      const { absolute, content, occurrences } = await planPatch(context, input);
      const { oldText, newText, replaceAll = false } = input;
      const patched = replaceAll ? content.split(oldText).join(newText) : content.replace(oldText, () => newText);
      // Not created again if it was removed meanwhile: a patch applies to the file that was read.
      await writeConfinedFile(context.guard, absolute, patched, { create: false });
      return { path: context.guard.display(absolute), replacements: occurrences };
    },
  });
}
