import { randomUUID } from "node:crypto";
import type { JsonObject, Message } from "@lash/protocol";
import type { RlmTermination } from "./rlm-options.js";
import type { SandboxLimits } from "./sandbox/quickjs-sandbox.js";

/** A fresh message id (the same shape the runtime uses). */
export function messageId(): string {
  return `m${randomUUID().replaceAll("-", "")}`;
}

export function textMessage(role: "user" | "system", content: string): Message {
  const id = messageId();
  return { id, role, parts: [{ kind: "text", id: `${id}.p0`, content }] };
}

function accessor(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `tools.${name}` : `tools[${JSON.stringify(name)}]`;
}

/** The `## Execution` section of an RLM turn's system prompt. */
export function rlmExecutionPrompt(input: {
  readonly tag: string;
  readonly toolNames: readonly string[];
  readonly termination: RlmTermination;
  readonly outputSchema: JsonObject | undefined;
  readonly limits: SandboxLimits;
}): string {
  const { tag, toolNames, termination, outputSchema, limits } = input;
  const fence = "```";
  const lines = [
    `You act by writing JavaScript. Put the code in one fenced block per reply, tagged \`${tag}\`:`,
    "",
    `${fence}${tag}`,
    toolNames.length > 0
      ? `const result = await ${accessor(toolNames[0] as string)}({ /* arguments */ });`
      : "const total = [1, 2, 3].reduce((a, b) => a + b, 0);",
    toolNames.length > 0 ? "print(result);" : "print(total);",
    fence,
    "",
    "The block runs in a sandbox and you see what it printed (and any error) on the next step. Only the first block of a reply runs.",
    "",
    "- `print(...values)` shows values on the next step; print what you need to decide, not whole large values.",
    "- `submit(value)` gives the final answer and ends the turn (a string is the reply as it is; other JSON values are the result). Only submit after you have seen the results you rely on.",
    toolNames.length > 0
      ? `- Tools are async functions taking one object: ${toolNames.map((name) => `\`${accessor(name)}(args)\``).join(", ")}. Await them; a failed call throws an error with \`code\` and \`message\`.`
      : "- No tools are available in this turn.",
    "- Top-level `const`, `let`, `var`, functions and classes stay defined for later blocks. Values that are plain JSON (numbers, strings, booleans, null, arrays, plain objects) also survive a restart of the session; functions, class instances, Maps, Sets, Dates and cyclic values do not: after a restart you are told which names were lost.",
    "- There is no `require`, `import`, `fetch`, `process`, file system, network or timer: only the tools above reach outside.",
    `- Each block may run ${limits.timeoutMs} ms of JavaScript (time waiting for tools does not count), use ${Math.round(limits.memoryBytes / (1024 * 1024))} MiB of memory, print ${limits.maxOutputCharacters} characters and make ${limits.maxToolCallsPerCell} tool calls.`,
    "",
    "## Finishing",
    "",
    termination.kind === "prose_or_submit"
      ? "A reply without a code block is your final answer to the user. You may also end the turn with `submit(value)` from a block."
      : "End the turn only with `submit(value)` from a code block. A reply without a code block is recorded as progress and does not end the turn.",
  ];
  if (outputSchema !== undefined) {
    lines.push(
      "",
      "## Required output",
      "",
      "The value you submit must match this JSON Schema (a value that does not is sent back to you with the problems):",
      "",
      `${fence}json`,
      JSON.stringify(outputSchema, null, 2),
      fence,
    );
  }
  return lines.join("\n");
}

/** The reminder a prose-only reply gets when the turn ends only by `submit`. */
export function submitReminder(tag: string, withSchema: boolean): Message {
  const content = withSchema
    ? `Deliver the final answer from a \`\`\`${tag} block by calling \`submit(value)\` with a value matching the required output schema. Text outside a block is recorded only as progress.`
    : `Your reply was recorded, but this turn ends only with an explicit final value. Write a \`\`\`${tag} block that calls \`submit(value)\` (a string for a plain answer).`;
  return textMessage("system", content);
}

/** The message that sends a submitted value the schema refused back to the model. */
export function schemaMismatchMessage(tag: string, problem: string): Message {
  return textMessage(
    "system",
    `The \`submit\` value didn't match the required output schema:\n${problem}\n\nFix the value and call \`submit(corrected)\` from another \`\`\`${tag} block.`,
  );
}

/** The prompt before the last model call the turn allows. */
export function lastStepMessage(limit: number, termination: RlmTermination, tag: string): Message {
  const content =
    termination.kind === "prose_or_submit"
      ? `Turn limit reached (${limit}). You MUST reply in plain prose now, with no \`\`\`${tag} block, containing:\n1. Summary of what you accomplished\n2. List of remaining tasks not yet completed\n3. Recommended next steps`
      : `Turn limit reached (${limit}). This is your last step: write one \`\`\`${tag} block that calls \`submit(value)\` with your best answer now.`;
  return textMessage("system", content);
}

/** What the model reads after a cell ran. */
export function observationMessage(output: string, error: string | undefined, ignoredCells: number): Message {
  const sections: string[] = [];
  sections.push(output === "" ? "[cell ran; it printed nothing]" : `[cell output]\n${output}`);
  if (error !== undefined) sections.push(`[cell error]\n${error}`);
  if (ignoredCells > 0) sections.push(`[note] Only the first code block of a reply runs: ${ignoredCells} later block(s) were ignored.`);
  return textMessage("user", sections.join("\n\n"));
}
