import { readFile } from "node:fs/promises";
import {
  InvalidScriptedConversationError,
  parseScriptedConversation,
  SCRIPTED_CONVERSATION_FORMAT,
  type ScriptedConversation,
} from "@lash/adapter-scripted";
import { usageError } from "../cli-error.js";

/** Reads a script file; a bad file is a usage error naming the file and the field. */
export async function readScriptedConversation(path: string): Promise<ScriptedConversation> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw usageError(`cannot read the script ${path}: ${(error as Error).message}`);
  }
  try {
    return parseScriptedConversation(json);
  } catch (error) {
    if (!InvalidScriptedConversationError.isInstance(error)) throw error;
    throw usageError(
      `the script ${path} is invalid: ${error.problems.join("; ")}`,
      `a script is { "format": "${SCRIPTED_CONVERSATION_FORMAT}", "steps": [...] }; see the lash README`,
    );
  }
}
