#!/usr/bin/env node
// `pnpm lash ...` in a clone: the `lash` command from source (apps/cli, through the "@lash/source"
// condition) on the repository's Node, in the folder pnpm was started from (INIT_CWD), so
// `pnpm -C ~/lash lash run "..."` works on the files of the folder you are in.
import { join } from "node:path";
import { repositoryRoot, runWithNode } from "./toolchain.mjs";

const tsx = join(repositoryRoot, "node_modules", ".bin", "tsx");
const cli = join(repositoryRoot, "apps", "cli", "src", "cli.ts");
runWithNode(tsx, ["--conditions=@lash/source", cli, ...process.argv.slice(2)], {
  cwd: process.env.INIT_CWD || process.cwd(),
  env: { LASH_COMMAND_NAME: process.env.LASH_COMMAND_NAME || "pnpm lash" },
});
