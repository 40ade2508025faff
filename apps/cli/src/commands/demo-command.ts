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
import { type ExecutionModeName, openSessionRuntime } from "../sessions/session-runtime.js";
import { explainStoreError, openCliStore } from "../store/open-store.js";
import { exitCodeOf, showingCodeCells } from "./turn-command.js";

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
 * The model's side of the RLM demo: one cell looks both orders up (the tool as an async function,
 * both calls at once), a second cell submits the answer from the variables the first one left.
 */
function rlmDemoProvider(): ModelProvider {
  const lookUp = [
    "Let me look both orders up in one cell.",
    "```js",
    "const orders = await Promise.all([7, 8].map((id) => tools.lookup_order({ id })));",
    "for (const order of orders) print('order ' + order.id + ': ' + order.status + (order.carrier ? ' via ' + order.carrier + ' on ' + order.shippedOn : ''));",
    "```",
  ].join("\n");
  const answer = [
    "Order 7 has shipped and order 8 is being packed: I can answer now.",
    "```js",
    "const [seven, eight] = orders;",
    "submit('Order 7 has shipped: ' + seven.carrier + ' picked it up on ' + seven.shippedOn + '. Order 8 is still ' + eight.status + ', so it has not shipped yet.\\n\\n' +",
    `  'Note for the customer of order 8: ' + ${JSON.stringify(`"${NOTE}"`)});`,
    "```",
  ].join("\n");
  return new ScriptedProvider([
    { ...textStep(lookUp, { chunks: 8, usage: usage(520, 71) }), delayMs: 300 },
    { ...textStep(answer, { chunks: 8, usage: usage(640, 88) }), delayMs: 300 },
  ]);
}

/** Flags of `lash demo`. */
export interface DemoFlags extends ConfigFlags {
  /** `rlm`: the scripted model writes JavaScript cells instead of calling the tools directly. */
  readonly mode?: ExecutionModeName;
}

/**
 * `lash demo`: one offline turn against a scripted model, with a tool round trip and a subagent,
 * streamed like a real run and stored in the configured store, so `lash sessions list` shows it.
 * `--mode rlm` plays the same question in the RLM mode: cells that call the tool from code.
 */
export async function demoCommand(flags: DemoFlags, io: CliIo): Promise<ExitCode> {
  const config = await resolveEffectiveConfig(flags, io);
  const err = styleFor(io.stderr, io.env);
  const out = styleFor(io.stdout, io.env);
  const store = await openCliStore(config.store.value, { env: io.env });
  const tasks = new LocalBackgroundTaskHost();
  try {
    const rlm = flags.mode === "rlm";
    const provider = { provider: rlm ? rlmDemoProvider() : demoProvider(), model: "scripted-model" };
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
      title: rlm ? "demo (rlm): orders 7 and 8" : "demo: orders 7 and 8",
      environment,
      mode: rlm ? "rlm" : "standard",
    });
    const what = rlm
      ? "an offline RLM turn: the scripted model writes JavaScript cells that call a tool in a QuickJS sandbox"
      : "an offline turn with a scripted model, a tool and a subagent";
    io.stderr.write(`${err.dim(`lash demo: ${what} (no network, no API key)`)}\n`);
    io.stderr.write(`${err.bold("you:")} ${DEMO_PROMPT}\n`);
    const renderer = showingCodeCells(createTurnRenderer(io, { streamAnswer: true, sessionId }), io);
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
