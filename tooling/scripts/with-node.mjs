#!/usr/bin/env node
// Runs a command on the repository's Node.js: `node tooling/scripts/with-node.mjs <command> [args]`.
// The root scripts (`pnpm test`, `pnpm build`, ...) go through it, so they work on a machine whose
// own Node is too old once `node tooling/scripts/setup.mjs` (the README's first command) has run.
import { runWithNode } from "./toolchain.mjs";

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  process.stderr.write("usage: with-node.mjs <command> [args...]\n");
  process.exit(2);
}
runWithNode(command, args);
