import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkImportCycles, findCycles, importGraph } from "./check-import-cycles.mjs";
import { repositoryRoot } from "./check-layering.mjs";

const folders = [];
function packageFolder(files) {
  const directory = mkdtempSync(join(tmpdir(), "lash-cycles-"));
  folders.push(directory);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(directory, path, ".."), { recursive: true });
    writeFileSync(join(directory, path), text);
  }
  return directory;
}
const cyclesIn = (directory) => findCycles(importGraph(directory)).map((cycle) => cycle.map((file) => file.slice(directory.length + 1)));

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe("import cycle check", () => {
  it("finds no cycle in this repository's packages", () => {
    expect(checkImportCycles(repositoryRoot)).toEqual([]);
  });

  it("reports a cycle through type-only imports, multi-line imports and re-exports, in order", () => {
    const directory = packageFolder({
      "src/a.ts": 'import {\n  b,\n} from "./b.js";\nexport const a = b;\n',
      "src/b.ts": 'export { c as b } from "./nested/c.js";\n',
      "src/nested/c.ts": 'import type { A } from "../a.js";\nexport const c = 1 as unknown as A;\n',
      "src/free.ts": 'import { a } from "./a.js";\nexport const free = a;\n',
    });
    expect(cyclesIn(directory)).toEqual([["src/a.ts", "src/b.ts", "src/nested/c.ts", "src/a.ts"]]);
  });

  it("resolves a folder import to its index and ignores package imports", () => {
    const directory = packageFolder({
      "src/index.ts": 'export * from "./parts";\nimport "zod";\n',
      "src/parts/index.ts": 'import { x } from "../index.js";\nexport const y = x;\n',
    });
    expect(cyclesIn(directory)).toEqual([["src/index.ts", "src/parts/index.ts", "src/index.ts"]]);
    expect(cyclesIn(packageFolder({ "src/a.ts": 'import "./b.js";', "src/b.ts": 'import "zod";' }))).toEqual([]);
  });
});
