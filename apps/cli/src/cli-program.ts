import { Command, CommanderError, Option } from "commander";
import packageJson from "../package.json" with { type: "json" };
import { describeError } from "./cli-error.js";
import type { CliIo } from "./cli-io.js";
import { approvalCommand } from "./commands/approval-command.js";
import { chatCommand } from "./commands/chat-command.js";
import { configCommand } from "./commands/config-command.js";
import { dbMigrateCommand } from "./commands/db-command.js";
import { demoCommand } from "./commands/demo-command.js";
import { mcpListCommand } from "./commands/mcp-list-command.js";
import { mcpServeCommand } from "./commands/mcp-serve-command.js";
import { runCommand } from "./commands/run-command.js";
import { serveCommand } from "./commands/serve-command.js";
import { sessionsListCommand, sessionsRemoveCommand, sessionsShowCommand, sessionsUsageCommand } from "./commands/sessions-command.js";
import { sessionsExportCommand, sessionsImportCommand } from "./commands/sessions-transfer-command.js";
import { tasksCancelCommand, tasksListCommand } from "./commands/tasks-command.js";
import { DEFAULT_CHUNK_TIMEOUT_SECONDS, DEFAULT_REQUEST_TIMEOUT_SECONDS } from "./config/effective-config.js";
import { closeMcpToolProviders } from "./config/mcp-servers.js";
import { NUMERIC_LIMITS } from "./config/numeric-limits.js";
import type { ExitCode } from "./exit-codes.js";
import { EXIT_CODES } from "./exit-codes.js";
import { styleFor } from "./render/terminal-style.js";
import { EXECUTION_MODES } from "./sessions/session-runtime.js";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The configuration flags (provider, model, store, ...), shared by every command that needs them. */
function withConfigOptions(command: Command, options: { readonly provider?: boolean } = {}): Command {
  if (options.provider !== false) {
    command
      .addOption(new Option("--provider <name>", "model provider (env LASH_PROVIDER)").choices(["openai", "anthropic", "scripted"]))
      .option("--model <name>", "model name (env LASH_MODEL)")
      .option("--base-url <url>", "API root of an OpenAI-compatible server (env LASH_BASE_URL)")
      .option("--script <file>", "scripted conversation for --provider scripted (env LASH_SCRIPT)")
      .option("--max-context-tokens <n>", "context window of the model (default: the window of a known model, else 128000)")
      .option(
        "--request-timeout <seconds>",
        `give up on a model call whose response has not started after this long; 0 = never (default ${DEFAULT_REQUEST_TIMEOUT_SECONDS}; env LASH_REQUEST_TIMEOUT)`,
      )
      .option(
        "--chunk-timeout <seconds>",
        `give up on a streamed response that stays silent this long; 0 = never (default ${DEFAULT_CHUNK_TIMEOUT_SECONDS}; env LASH_CHUNK_TIMEOUT)`,
      );
  }
  return command
    .option("--store <location>", "sqlite:<file>, postgres://... or fs:<dir> (env LASH_STORE; default $LASH_HOME/lash.db)")
    .option("--config <file>", "config file (env LASH_CONFIG; default $LASH_HOME/config.json)");
}

/** The settings of a turn's limits and tools: `lash config` shows where each came from. */
function withLimitOptions(command: Command): Command {
  return command
    .option("--max-model-calls <n>", "stop after this many model calls (default 25)")
    .option("--max-tokens <n>", "stop when the turn has used this many tokens")
    .option("--timeout <seconds>", `stop the turn after this many seconds (at most ${NUMERIC_LIMITS.timeoutSeconds.max})`)
    .option("--allow-path <dir>", "let the tools use this directory too (repeatable)", collect);
}

/** The flags of commands that run turns. */
function withTurnOptions(command: Command): Command {
  return withLimitOptions(withConfigOptions(command).option("--session <id>", "continue this session (default: a new one)"))
    .option("-y, --yes", "allow file writes and shell commands without asking (`run` without it: the turn waits for `lash approve`)")
    .option("--allow-any-path", "let the tools use any path");
}

/**
 * `--mode`: how the model acts. `standard` calls tools directly; `rlm` writes JavaScript cells that
 * run in a QuickJS sandbox with the tools as async functions. A continued session keeps its mode
 * unless the option is given.
 */
function modeOption(): Option {
  return new Option("--mode <mode>", "execution mode: standard (tool calls) or rlm (JavaScript cells in a sandbox)").choices([
    ...EXECUTION_MODES,
  ]);
}

/** `error: unknown option '--x'` as `lash: error: unknown option '--x'`. */
function commanderErrorText(text: string, prefix: string): string {
  return text.startsWith("error: ") ? `${prefix} ${text.slice("error: ".length)}` : `${prefix} ${text}`;
}

function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join("\n")}\n`;
}

/**
 * The `lash` program. Every action resolves to an exit code; errors are printed without a stack
 * (with one under `--debug`) and mapped to the documented exit codes.
 */
export function createProgram(io: CliIo, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command("lash");
  const act =
    <Args extends unknown[]>(action: (...args: Args) => Promise<ExitCode>) =>
    async (...args: Args): Promise<void> => {
      setExitCode(await action(...args));
    };
  program
    .description("Run durable LLM agents from the terminal: one-shot runs, chat, stored sessions and their usage.")
    .version(packageJson.version, "-v, --version", "print the version")
    .option("--debug", "print stack traces and causes of errors")
    .option("-p, --prompt <prompt>", "shorthand for `lash run <prompt>`")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander's own usage errors (`error: unknown option '--bogus'`) read like every other error.
      outputError: (text, write) => write(commanderErrorText(text, styleFor(io.stderr, io.env).red("lash: error:"))),
    })
    .addHelpText(
      "after",
      `${examples([
        "lash demo                                   # offline: a scripted turn with a tool call",
        'lash run "What does this project do?"       # one turn, streamed',
        'git diff | lash run "Review this change"    # piped input is appended to the prompt',
        "lash chat                                   # interactive",
        "lash approve <session> --all                # continue a turn that waits for approval",
        "lash sessions list",
        "lash serve --port 8787                      # the HTTP server (lash serve --help)",
      ])}\nExit codes: 0 finished, 1 stopped or failed, 2 bad usage or configuration, 3 waiting for approval, 130 cancelled.\n`,
    )
    .hook("preAction", (command) => {
      io.debug = command.opts<{ debug?: boolean }>().debug === true;
    });

  withTurnOptions(
    program
      .command("run")
      .description("run one turn and stream the answer")
      .argument("[prompt]", "the prompt; `-` (or no argument with piped input) reads stdin"),
  )
    .option("--json", "print the AssembledTurn as JSON instead of the answer")
    .addOption(modeOption())
    .addHelpText(
      "after",
      examples([
        'lash run "Summarise README.md"',
        'lash run --session 3f2c... "And the tests?"',
        "echo 'List the files' | lash run -",
        'lash run --json --max-model-calls 3 "Which files mention TODO?"',
        'lash run --mode rlm "Count the TODO lines in src/"',
      ]),
    )
    .action(act((prompt: string | undefined, flags) => runCommand(prompt, flags, io)));

  withTurnOptions(program.command("chat").description("talk to the model interactively (/usage, /session, /new, /exit)"))
    .addOption(modeOption())
    .addHelpText(
      "after",
      examples(["lash chat", "lash chat --session 3f2c...", "lash chat --yes --provider openai --model gpt-5.4", "lash chat --mode rlm"]),
    )
    .action(act((flags) => chatCommand(flags, io)));

  for (const decision of ["approve", "reject"] as const) {
    const approve = decision === "approve";
    withConfigOptions(
      program
        .command(decision)
        .description(
          approve
            ? "approve calls a stored turn waits on (writes, shell commands) and continue the turn"
            : "reject calls a stored turn waits on (the model is told why) and continue the turn",
        )
        .argument("<session>", "the session whose turn waits")
        .argument("[ids...]", "the approval requests to decide (without ids and --all: list them)"),
    )
      .option("--all", `${decision} every request the turn waits on`)
      .option("--reason <text>", approve ? "why, stored with the decision" : "why; the model is told")
      .option("--by <who>", "who decides, stored with the decision (default cli:<user name>)")
      .option("--json", "print the AssembledTurn as JSON instead of the answer (without ids: the open requests)")
      .option("--allow-path <dir>", "let the tools use this directory too (repeatable)", collect)
      .option("--allow-any-path", "let the tools use any path")
      .addHelpText(
        "after",
        examples(
          approve
            ? [
                "lash approve 3f2c...                     # list what the turn waits on",
                "lash approve 3f2c... 9b1d...",
                "lash approve 3f2c... --all --by alice",
              ]
            : ['lash reject 3f2c... 9b1d... --reason "not in this folder"', 'lash reject 3f2c... --all --reason "not now"'],
        ),
      )
      .action(act((sessionId: string, ids: string[], flags) => approvalCommand(decision, sessionId, ids, flags, io)));
  }

  withConfigOptions(program.command("demo").description("an offline scripted turn with a tool round trip, stored like any session"), {
    provider: false,
  })
    .addOption(modeOption())
    .addHelpText(
      "after",
      examples([
        "lash demo",
        "lash demo --mode rlm                        # the model writes a JavaScript cell that calls the tool",
        "LASH_HOME=/tmp/lash-demo lash demo && lash sessions list",
      ]),
    )
    .action(act((flags) => demoCommand(flags, io)));

  const sessions = program
    .command("sessions")
    .description("list, show, export, import and remove stored sessions")
    .addHelpText(
      "after",
      examples([
        "lash sessions list",
        "lash sessions show <id>",
        "lash sessions usage <id>",
        "lash sessions export <id> > session.json",
        "lash sessions import session.json",
        "lash sessions rm <id>",
      ]),
    );
  withConfigOptions(sessions.command("list").description("sessions, newest first"), { provider: false })
    .option("--json", "print JSON")
    .option("--all", "include child sessions (subagents) and empty sessions (never committed)")
    .addHelpText("after", examples(["lash sessions list", "lash sessions list --all --json"]))
    .action(act((flags) => sessionsListCommand(flags, io)));
  withConfigOptions(sessions.command("show").description("the transcript of a session's active path").argument("<id>"), { provider: false })
    .addHelpText("after", examples(["lash sessions show 3f2c..."]))
    .action(act((id: string, flags) => sessionsShowCommand(id, flags, io)));
  withConfigOptions(sessions.command("usage").description("a session's usage report and cost").argument("<id>"), { provider: false })
    .option("--json", "print JSON")
    .addHelpText("after", examples(["lash sessions usage 3f2c...", "lash sessions usage --json 3f2c..."]))
    .action(act((id: string, flags) => sessionsUsageCommand(id, flags, io)));
  withConfigOptions(sessions.command("export").description("a session as JSON (meta, graph, ledger, images in base64)").argument("<id>"), {
    provider: false,
  })
    .addHelpText("after", examples(["lash sessions export 3f2c... > session.json"]))
    .action(act((id: string, flags) => sessionsExportCommand(id, flags, io)));
  withConfigOptions(sessions.command("import").description("store a session from an export file (- reads stdin)").argument("<file>"), {
    provider: false,
  })
    .option("--as <id>", "import under another session id")
    .addHelpText(
      "after",
      examples([
        "lash sessions import session.json",
        "lash sessions export 3f2c... | lash sessions import - --as copy --store fs:./archive",
      ]),
    )
    .action(act((file: string, flags) => sessionsImportCommand(file, flags, io)));
  withConfigOptions(sessions.command("rm").description("delete a session").argument("<id>"), { provider: false })
    .addHelpText("after", examples(["lash sessions rm 3f2c..."]))
    .action(act((id: string, flags) => sessionsRemoveCommand(id, flags, io)));

  const tasks = program
    .command("tasks")
    .description("background tasks (subagents) stored in a PostgreSQL store")
    .addHelpText("after", examples(["lash tasks list --all", "lash tasks cancel <id>"]));
  withConfigOptions(tasks.command("list").description("background tasks"), { provider: false })
    .option("--all", "include finished tasks")
    .option("--json", "print the task records as JSON")
    .addHelpText("after", examples(["lash tasks list --store postgres://localhost/lash", "lash tasks list --all --json"]))
    .action(act((flags) => tasksListCommand(flags, io)));
  withConfigOptions(tasks.command("cancel").description("cancel a background task").argument("<id>"), { provider: false })
    .addHelpText("after", examples(["lash tasks cancel 9a1e..."]))
    .action(act((id: string, flags) => tasksCancelCommand(id, flags, io)));

  const db = program
    .command("db")
    .description("database maintenance")
    .addHelpText("after", examples(["lash db migrate --store postgres://lash@db.internal/lash"]));
  withConfigOptions(db.command("migrate").description("create or update the tables of a SQL store (PostgreSQL needs it once)"), {
    provider: false,
  })
    .addHelpText(
      "after",
      examples([
        "lash db migrate --store postgres://lash@db.internal/lash",
        "lash db migrate --store 'postgres://localhost/lash?schema=agents'",
      ]),
    )
    .action(act((flags) => dbMigrateCommand(flags, io)));

  // The server parses its own flags (the same as `lash-server`'s), `--help` included: commander hands them all on.
  program
    .command("serve")
    .description("serve sessions over HTTP, as lash-server does: /v1, /metrics, /openapi.json (lash serve --help)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[options...]", "lash-server's options: --store, --port, --host, --config, ...")
    .addHelpText(
      "after",
      examples([
        "lash serve                                  # http://127.0.0.1:8787 on $LASH_HOME/lash.db",
        "lash serve --port 0 --script script.json    # a free port, a scripted model",
        "lash serve --store postgres://db/lash --migrate",
        "lash serve keys create --tenant acme        # an API key: every /v1 request then needs one",
        "lash serve --help                           # every option",
      ]),
    )
    .action(act((args: string[]) => serveCommand(args, io)));

  const mcp = program
    .command("mcp")
    .description("Model Context Protocol: the configured MCP servers, and lash as an MCP server")
    .addHelpText(
      "after",
      examples(["lash mcp list", "lash mcp serve --yes   # for an MCP client's config: command lash, args [mcp, serve, --yes]"]),
    );
  withConfigOptions(mcp.command("list").description("the MCP servers of the config file (mcpServers): their state and tools"), {
    provider: false,
  })
    .option("--json", "print JSON")
    .addHelpText("after", examples(["lash mcp list", "lash mcp list --json --config ./project.json"]))
    .action(act((flags) => mcpListCommand(flags, io)));
  withLimitOptions(
    withConfigOptions(
      mcp.command("serve").description("serve the agent as an MCP server on stdio: run_turn, list_sessions, session_usage"),
    ),
  )
    .option("-y, --yes", "allow file writes and shell commands without asking (without it such a turn waits for `lash approve`)")
    .option("--allow-any-path", "let the tools use any path")
    .addHelpText(
      "after",
      examples([
        "lash mcp serve",
        "lash mcp serve --yes --provider anthropic",
        "lash mcp serve --script script.json        # a scripted model, offline",
      ]),
    )
    .action(act((flags) => mcpServeCommand(flags, io)));

  withLimitOptions(withConfigOptions(program.command("config").description("the effective configuration and where each value came from")))
    .option("--json", "print JSON")
    .addHelpText("after", examples(["lash config", "LASH_MODEL=gpt-5.4 lash config --provider openai"]))
    .action(act((flags) => configCommand(flags, io)));

  return program;
}

const COMMAND_NAMES = new Set(["run", "chat", "approve", "reject", "demo", "sessions", "tasks", "db", "serve", "config", "mcp", "help"]);

/**
 * `lash -p <prompt> [run flags]` is `lash run <prompt> [run flags]`: rewritten before commander
 * sees it, unless a command comes first (then `-p` is that command's business).
 */
function normalizeArguments(argv: readonly string[]): string[] {
  const args = [...argv];
  const index = args.findIndex((arg) => arg === "-p" || arg === "--prompt" || arg.startsWith("--prompt="));
  if (index === -1 || args.slice(0, index).some((arg) => COMMAND_NAMES.has(arg))) return args;
  const arg = args[index] ?? "";
  const inline = arg.startsWith("--prompt=") ? arg.slice("--prompt=".length) : undefined;
  const prompt = inline ?? args[index + 1];
  args.splice(index, inline === undefined ? 2 : 1);
  return prompt === undefined ? ["run", ...args] : ["run", prompt, ...args];
}

/** Runs `lash` with `argv` (without the node and script paths) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT_CODES.finished;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  io.debug = argv.includes("--debug");
  try {
    await program.parseAsync(normalizeArguments(argv), { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander printed the help, the version or the usage error already: `--help` and
      // `--version` end with 0, everything else (an unknown flag, a missing argument or command) 2.
      return error.exitCode === 0 ? EXIT_CODES.finished : EXIT_CODES.usage;
    }
    const described = describeError(error);
    const style = styleFor(io.stderr, io.env);
    io.stderr.write(`${style.red("lash: error:")} ${described.message}\n`);
    if (described.hint !== undefined) io.stderr.write(`  ${described.hint}\n`);
    if (io.debug && error instanceof Error)
      io.stderr.write(
        `${error.stack ?? ""}\n${error.cause === undefined ? "" : `cause: ${String((error.cause as Error).stack ?? error.cause)}\n`}`,
      );
    return described.exitCode;
  } finally {
    // The MCP servers the command's sessions started (stdio processes) end with it.
    await closeMcpToolProviders();
  }
}
