import { PassThrough } from "node:stream";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import type { CliIo } from "./cli-io.js";
import { createProgram } from "./cli-program.js";

function captureIo(): { io: CliIo; stdout: () => string } {
  const stdout = new PassThrough();
  let text = "";
  stdout.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  const io: CliIo = {
    stdin: new PassThrough(),
    stdout,
    stderr: new PassThrough(),
    env: {},
    cwd: "/",
    homeDirectory: "/nonexistent",
    debug: false,
  };
  return { io, stdout: () => text };
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

describe("the lash program", () => {
  it("every command has a description and --help with examples", () => {
    const { io, stdout } = captureIo();
    const program = createProgram(io, () => undefined);
    const commands = allCommands(program).filter((command) => command.name() !== "help");
    expect(commands.map((command) => command.name())).toEqual([
      "lash",
      "run",
      "chat",
      "approve",
      "reject",
      "demo",
      "sessions",
      "list",
      "show",
      "usage",
      "export",
      "import",
      "rm",
      "tasks",
      "list",
      "cancel",
      "db",
      "migrate",
      "serve",
      "mcp",
      "list",
      "serve",
      "config",
    ]);
    for (const command of commands) {
      const before = stdout().length;
      command.outputHelp();
      const help = stdout().slice(before);
      expect(command.description(), command.name()).not.toBe("");
      expect(help, command.name()).toContain("Examples:\n  lash");
    }
  });
});
