import { h } from "./dom.js";

/**
 * A small Markdown renderer that builds DOM nodes: paragraphs, headings, lists, quotes, fenced code,
 * inline code, bold, italic and links. Every piece of text becomes a text node, so HTML in the
 * source shows as text and never runs; a link keeps only http, https and mailto targets.
 */
export function renderMarkdown(source: string): HTMLElement {
  const root = h("div", { class: "markdown" });
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  let index = 0;
  while (index < lines.length) {
    const line = lines[index] ?? "";
    const fence = /^\s*(```|~~~)\s*([\w+-]*)\s*$/.exec(line);
    if (fence !== null) {
      const code: string[] = [];
      index += 1;
      while (index < lines.length && !(lines[index] ?? "").trim().startsWith(fence[1] ?? "```")) {
        code.push(lines[index] ?? "");
        index += 1;
      }
      index += 1;
      root.append(h("pre", {}, h("code", fence[2] === "" ? {} : { "data-language": fence[2] }, code.join("\n"))));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading !== null) {
      const level = Math.min((heading[1] ?? "#").length + 2, 6);
      root.append(h(`h${level}` as "h3", {}, inline(heading[2] ?? "")));
      index += 1;
      continue;
    }
    if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d+[.)]\s+/.test(line);
      const list = h(ordered ? "ol" : "ul");
      while (index < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[index] ?? "")) {
        list.append(h("li", {}, inline((lines[index] ?? "").replace(/^\s*([-*+]|\d+[.)])\s+/, ""))));
        index += 1;
      }
      root.append(list);
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted: string[] = [];
      while (index < lines.length && /^\s*>/.test(lines[index] ?? "")) {
        quoted.push((lines[index] ?? "").replace(/^\s*>\s?/, ""));
        index += 1;
      }
      root.append(h("blockquote", {}, renderMarkdown(quoted.join("\n"))));
      continue;
    }
    if (line.trim() === "") {
      index += 1;
      continue;
    }
    const paragraph: string[] = [];
    while (index < lines.length) {
      const next = lines[index] ?? "";
      if (next.trim() === "" || /^(#{1,6})\s|^\s*(```|~~~)|^\s*([-*+]|\d+[.)])\s+|^\s*>/.test(next)) break;
      paragraph.push(next);
      index += 1;
    }
    const block = h("p");
    paragraph.forEach((text, position) => {
      if (position > 0) block.append(h("br"));
      block.append(...inline(text));
    });
    root.append(block);
  }
  return root;
}

const INLINE = /(`+)([^`]|[^`][\s\S]*?[^`])\1|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|\[([^\]]+)\]\(([^)\s]+)\)/g;

function safeHref(target: string): string | undefined {
  try {
    const url = new URL(target, window.location.href);
    return url.protocol === "http:" || url.protocol === "https:" || url.protocol === "mailto:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Inline Markdown of one line, as nodes. */
export function inline(text: string): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const start = match.index ?? 0;
    if (start > last) nodes.push(document.createTextNode(text.slice(last, start)));
    if (match[2] !== undefined) nodes.push(h("code", {}, match[2]));
    else if (match[3] !== undefined || match[4] !== undefined) nodes.push(h("strong", {}, inline(match[3] ?? match[4] ?? "")));
    else if (match[5] !== undefined || match[6] !== undefined) nodes.push(h("em", {}, inline(match[5] ?? match[6] ?? "")));
    else if (match[7] !== undefined) {
      const href = safeHref(match[8] ?? "");
      nodes.push(
        href === undefined ? document.createTextNode(match[0]) : h("a", { href, rel: "noopener noreferrer", target: "_blank" }, match[7]),
      );
    }
    last = start + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}
