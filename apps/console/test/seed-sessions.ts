import { randomUUID } from "node:crypto";
import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/adapter-scripted";
import { defineTool, LashRuntime } from "@lash/core";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "@lash/stores/sql";
import { z } from "zod";
import { receiptPng } from "./receipt-image.js";

/** Markup a page must show as text: if any of it ran, `window.__xss` would be set. */
export const XSS_TOOL_OUTPUT = "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>";
export const XSS_MODEL_TEXT = "Order 7 has **shipped**. <b>bold?</b> <script>window.__xss=3</script>";

/** The sessions the browser tests open: one with two branches, a tool call and a subagent's child session. */
export interface SeededSessions {
  readonly branchedSessionId: string;
  readonly childSessionId: string;
  readonly title: string;
}

const lookupOrder = defineTool({
  name: "lookup_order",
  description: "An order's status.",
  inputSchema: z.object({ id: z.number() }),
  execute: ({ id }) => ({ id, status: "shipped", note: XSS_TOOL_OUTPUT }),
});

async function openRuntime(database: SqlSessionDatabase, sessionId: string, provider: ScriptedProvider): Promise<LashRuntime> {
  return await LashRuntime.builder()
    .withSessionId(sessionId)
    .withPolicy({ model: "scripted-model", providerId: provider.providerId })
    .withProvider(provider)
    .withTools([lookupOrder])
    .withStore(database.openSession(sessionId))
    .withSessionStoreFactory(database)
    .build();
}

/**
 * Writes the sessions into the SQLite file the server will serve, as the `lash` command would: a
 * titled session whose first question carries an image and whose second question was asked again
 * differently (two branches), with a tool whose output carries markup, and a child session that
 * names it as its parent.
 */
export async function seedSessions(file: string): Promise<SeededSessions> {
  const database = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  await database.migrateToLatest();
  try {
    const title = "Orders 7 and 8, asked twice";
    const branchedSessionId = randomUUID();
    const provider = new ScriptedProvider([
      toolCallStep([{ name: "lookup_order", args: { id: 7 } }], { text: "Let me look order 7 up.", usage: usage(320, 18) }),
      textStep(XSS_MODEL_TEXT, { usage: usage(410, 22) }),
      textStep("Order 8 is still being packed.", { usage: usage(450, 9) }),
      textStep("Order 9 was cancelled on 1 March.", { usage: usage(470, 11) }),
    ]);
    const runtime = await openRuntime(database, branchedSessionId, provider);
    await database.openSession(branchedSessionId).saveSessionMeta({
      sessionId: branchedSessionId,
      sessionName: title,
      createdAt: new Date().toISOString(),
      model: "scripted-model",
      relation: { type: "root" },
    });
    // The first question comes with a photo of the receipt: the transcript shows it.
    await runtime.streamTurn({
      items: [
        { type: "text", text: "Has order 7 shipped?" },
        { type: "image_ref", id: "receipt.png" },
      ],
      imageBlobs: { "receipt.png": new Uint8Array(receiptPng()) },
    });
    await runtime.streamTurn("And order 8?");
    const second = runtime
      .activeMessages()
      .find((message) => message.role === "user" && message.parts.some((part) => part.kind === "text" && part.content === "And order 8?"));
    if (second === undefined) throw new Error("the second question is not on the active path");
    // Asked again in its place: the first answer stays as a branch of its own.
    runtime.branchBeforeMessage(second.id);
    await runtime.streamTurn("What about order 9?");
    await runtime.park();

    const childSessionId = randomUUID();
    const childProvider = new ScriptedProvider([textStep("Dear customer, your order 8 ships soon.", { usage: usage(96, 21) })]);
    const child = await openRuntime(database, childSessionId, childProvider);
    await database.openSession(childSessionId).saveSessionMeta({
      sessionId: childSessionId,
      sessionName: "Draft a note for order 8",
      createdAt: new Date().toISOString(),
      model: "scripted-model",
      parentSessionId: branchedSessionId,
      relation: { type: "child", parentSessionId: branchedSessionId },
    });
    await child.streamTurn("Write a two-sentence note to the customer of order 8.");
    await child.park();
    return { branchedSessionId, childSessionId, title };
  } finally {
    await database.destroy();
  }
}
