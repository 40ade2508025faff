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

/** What a write would do, as the checks made before the question (and again before writing) found it. */
interface PlannedWrite {
  readonly absolute: string;
  readonly display: string;
  readonly exists: boolean;
  readonly bytes: number;
}

/**
 * The checks of a write: the path is confined, and what is there now is a regular file or nothing.
 * Looked up through checked folders, never by following the path: what is there decides the
 * question to the user, and a directory, pipe or device is refused before anyone is asked.
 */
async function planWrite(context: WorkspaceToolContext, path: string, content: string): Promise<PlannedWrite> {
  const absolute = await context.guard.resolve(path);
  const display = context.guard.display(absolute);
  const existing = await inspectConfinedPath(context.guard, absolute);
  if (existing?.isSymbolicLink() === true) throw changedError(display);
  if (existing !== undefined && !existing.isFile()) throw notRegularFileError(display, existing);
  return { absolute, display, exists: existing !== undefined, bytes: Buffer.byteLength(content, "utf8") };
}

/** `create src/a.ts (120 bytes)` or `overwrite src/a.ts (120 bytes)`. */
function describeWrite(plan: PlannedWrite): string {
  return `${plan.exists ? "overwrite" : "create"} ${plan.display} (${plan.bytes} byte${plan.bytes === 1 ? "" : "s"})`;
}

/**
 * `write_file`: creates or replaces a file. Every call needs approval (the runtime's approver
 * decides); a call the checks refuse fails before anyone is asked.
 */
export function createWriteFileTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "write_file",
    description: "Create a file or replace its whole content. Needs the user's approval.",
    inputSchema,
    executionMode: "serial",
    needsApproval: async ({ path, content }) => {
      // Throws the failed check's ToolError: a call that cannot succeed fails before anyone is asked.
      await planWrite(context, path, content);
      return true;
    },
    describeApproval: async ({ path, content }) => describeWrite(await planWrite(context, path, content)),
    async execute({ path, content }) {
      // Checked again: the path may have changed while the user was being asked.
      const plan = await planWrite(context, path, content);
      const { created } = await writeConfinedFile(context.guard, plan.absolute, content);
      return { path: plan.display, bytesWritten: plan.bytes, created };
    },
  });
}
