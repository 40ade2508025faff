import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/adapter-scripted";
import { createSubagentTools, LocalBackgroundTaskHost } from "@lash/background";
import { defineTool, RuntimeEnvironment } from "@lash/core";
import type { ModelProvider } from "@lash/protocol";
import { MODEL_PROVIDER_SPECIFICATION_VERSION } from "@lash/protocol";
import { z } from "zod";
import type { CliIo } from "../cli-io.js";
import type { ConfigFlags } from "../config/effective-config.js";
import { resolveEffectiveConfig } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { styleFor } from "../render/terminal-style.js";
import { createTurnRenderer, renderTurn } from "../render/turn-renderer.js";
import { renderUsageReport } from "../render/usage-report-view.js";
import { openSessionRuntime } from "../sessions/session-runtime.js";
import { explainStoreError, openCliStore } from "../store/open-store.js";
import { exitCodeOf } from "./turn-command.js";

const ORDERS: Record<number, { status: string; carrier?: string; shippedOn?: string }> = {
  7: { status: "shipped", carrier: "DHL", shippedOn: "2026-03-02" },
  8: { status: "packing" },
};

/** The demo's tool: deterministic, so the scripted answer matches what it returns. */
const lookupOrder = defineTool({
  name: "lookup_order",
  description: "Look an order up by its number.",
  inputSchema: z.object({ id: z.number().int() }),
  execute: ({ id }) => ({ id, ...(ORDERS[id] ?? { status: "unknown" }) }),
});

const DEMO_PROMPT = "Have orders 7 and 8 shipped yet? Draft a note for the customer of order 8.";
const NOTE = "Your order 8 is being packed and will ship soon. Thank you for your patience!";

/**
 * The model's side of the demo. The main session looks both orders up and starts a subagent for
 * the note in one batch, waits for it, then answers. The subagent runs in its own child session
 * at the same time, so its calls are routed to a script of its own by session id.
 */
function demoProvider(): ModelProvider {
  const main = new ScriptedProvider([
    {
      ...toolCallStep(
        [
          { callId: "call-7", name: "lookup_order", args: { id: 7 } },
          { callId: "call-8", name: "lookup_order", args: { id: 8 } },
          {
            callId: "call-note",
            name: "spawn_agent",
            args: { task: "Write a two-sentence note to the customer of order 8: it is still being packed." },
          },
        ],
        { text: "Let me look both orders up, and ask a subagent to draft the note.", usage: usage(412, 64) },
      ),
      delayMs: 300,
    },
    { ...toolCallStep([{ callId: "call-await", name: "await_agent", args: {} }], { usage: usage(560, 12, 384) }), delayMs: 200 },
    {
      ...textStep(
        `Order 7 has shipped: DHL picked it up on 2 March. Order 8 is still being packed, so it has not shipped yet.\n\nNote for the customer of order 8: "${NOTE}"`,
        { chunks: 16, usage: usage(650, 58, 512) },
      ),
      delayMs: 300,
    },
  ]);
  const subagent = new ScriptedProvider([{ ...textStep(NOTE, { chunks: 4, usage: usage(96, 21) }), delayMs: 100 }]);
  return {
    specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
    providerId: "scripted",
    defaultModel: "scripted-model",
    doComplete(request, options) {
      const target = (request.sessionId ?? "").startsWith("subagent-") ? subagent : main;
      // A ScriptedProvider in its default mode implements `doComplete`.
      if (target.doComplete === undefined) throw new Error("the demo's scripted provider must implement doComplete");
      return target.doComplete(request, options);
    },
  };
}

/**
 * `lash demo`: one offline turn against a scripted model, with a tool round trip and a subagent,
 * streamed like a real run and stored in the configured store, so `lash sessions list` shows it.
 */
export async function demoCommand(flags: ConfigFlags, io: CliIo): Promise<ExitCode> {
  const config = await resolveEffectiveConfig(flags, io);
  const err = styleFor(io.stderr, io.env);
  const out = styleFor(io.stdout, io.env);
  const store = await openCliStore(config.store.value, { env: io.env });
  const tasks = new LocalBackgroundTaskHost();
  try {
    const provider = { provider: demoProvider(), model: "scripted-model" };
    const environment = RuntimeEnvironment.builder()
      .withProvider(provider.provider)
      .withBackgroundTaskHost(tasks)
      .withToolProvider(createSubagentTools({ maxDepth: 1 }))
      .withSessionStoreFactory(store.factory)
      .build();
    const { runtime, sessionId } = await openSessionRuntime({
      store,
      config,
      provider,
      tools: [lookupOrder],
      cwd: io.cwd,
      title: "demo: orders 7 and 8",
      environment,
    });
    io.stderr.write(`${err.dim("lash demo: an offline turn with a scripted model, a tool and a subagent (no network, no API key)")}\n`);
    io.stderr.write(`${err.bold("you:")} ${DEMO_PROMPT}\n`);
    const renderer = createTurnRenderer(io, { streamAnswer: true, sessionId });
    const turn = await renderTurn(renderer, runtime.streamTurn(DEMO_PROMPT));
    io.stdout.write(`\n${out.bold("usage")}\n${renderUsageReport(runtime.tokenLedger(), out)}\n`);
    io.stderr.write(`\n${err.dim(`stored in ${store.description} as session ${sessionId}`)}\n`);
    // `pnpm lash` in a clone of the repository (its root script sets LASH_COMMAND_NAME), `lash` once installed.
    const lash = io.env.LASH_COMMAND_NAME?.trim() || "lash";
    io.stderr.write(
      `${err.dim(`next: ${lash} sessions list · ${lash} sessions show ${sessionId} · ${lash} sessions usage ${sessionId}`)}\n`,
    );
    return exitCodeOf(turn);
  } catch (error) {
    throw explainStoreError(error);
  } finally {
    await store.close().catch(() => undefined);
  }
}
