import { resourceIdSchema } from "@lash/remote-protocol";
import type { Context } from "hono";
import { invalidRequest } from "./validation-error.js";

/**
 * A path parameter checked as an id (printable, bounded, no slash): a malformed one is a 400
 * naming the parameter, before any store is asked about it.
 */
export function pathId(context: Context, name: "sessionId" | "turnId" | "approvalId" | "taskId" | "chatId"): string {
  const parsed = resourceIdSchema.safeParse(context.req.param(name));
  if (!parsed.success) throw invalidRequest(`the ${name}`, parsed.error);
  return parsed.data;
}
