#!/usr/bin/env node
// Fails when files of one package import each other in a cycle. Type-only imports count: a cycle
// of types is still two files that cannot be understood (or moved) one without the other, and it
// becomes a load-order bug the day one of the imports starts carrying a value.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { workspaceManifests } from "./check-layering.mjs";

const SOURCE_EXTENSIONS = [".ts", ".tsx", ".mts", ".mjs", ".js"];
const SKIPPED_FOLDERS = new Set(["node_modules", "dist", "coverage", ".turbo"]);

function sourceFiles(directory, found = []) {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name) && !entry.name.startsWith(".")) sourceFiles(path, found);
    } else if (SOURCE_EXTENSIONS.some((extension) => entry.name.endsWith(extension)) && !entry.name.endsWith(".d.ts")) {
      found.push(path);
    }
  }
  return found;
}

/** The file a relative specifier names: `./x.js` is `./x.ts` in source, a folder is its index. */
function resolveRelative(fromFile, specifier, known) {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [base, base.replace(/\.(m?)js$/, ".$1ts"), base.replace(/\.js$/, ".tsx")];
  for (const extension of SOURCE_EXTENSIONS) candidates.push(`${base}${extension}`, join(base, `index${extension}`));
  return candidates.find((candidate) => known.has(candidate));
}

/** The import graph of the files under `packageDirectory`: file -> files it imports. */
export function importGraph(packageDirectory) {
  const files = sourceFiles(packageDirectory);
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const targets = new Set();
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const target = resolveRelative(file, fileName, known);
      if (target !== undefined && target !== file) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan), each as a concrete cycle. */
export function findCycles(graph) {
  let counter = 0;
  const index = new Map();
  const lowLink = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (node) => {
    index.set(node, counter);
    lowLink.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        lowLink.set(node, Math.min(lowLink.get(node), lowLink.get(next)));
      } else if (onStack.has(next)) {
        lowLink.set(node, Math.min(lowLink.get(node), index.get(next)));
      }
    }
    if (lowLink.get(node) === index.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component);
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components.map((component) => cycleThrough(graph, new Set(component)));
}

/** One shortest path from the first file of a component back to itself, inside the component. */
function cycleThrough(graph, members) {
  const start = [...members].sort()[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let step = node; step !== start; step = previous.get(step)) path.splice(1, 0, step);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/** Every cycle of every workspace package, as messages naming the package and the files in order. */
export function checkImportCycles(root) {
  const problems = [];
  for (const { path, manifest } of workspaceManifests(root)) {
    const directory = join(root, dirname(path));
    if (!existsSync(directory) || !statSync(directory).isDirectory()) continue;
    for (const cycle of findCycles(importGraph(directory))) {
      problems.push(`${manifest.name}: ${cycle.map((file) => relative(directory, file)).join(" -> ")}`);
    }
  }
  return problems;
}

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problems = checkImportCycles(root);
  if (problems.length > 0) {
    console.error(
      `import cycles (break each one: move what both files need into a third, or invert one import):\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
    );
    process.exit(1);
  }
  console.log("no import cycles");
}
