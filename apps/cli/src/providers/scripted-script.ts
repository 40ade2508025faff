import {
  InvalidScriptedConversationError,
  parseScriptedConversation,
  SCRIPTED_CONVERSATION_FORMAT,
  type ScriptedConversation,
} from "@lash/adapter-scripted";
import { usageError } from "../cli-error.js";
import { readInputFile } from "../config/input-file.js";

/**
 * Reads a script file; a bad file is a usage error naming the file and the field, and so is one
 * that is not a regular file or is larger than `MAX_INPUT_FILE_BYTES` (it is never read whole).
 */
export async function readScriptedConversation(path: string): Promise<ScriptedConversation> {
  const text = await readInputFile(path, "the script");
  let json: unknown;
  try {
    json = JSON.parse(text);
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
