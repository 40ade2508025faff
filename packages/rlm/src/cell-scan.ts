/** The first code cell of a reply: the prose before it, its source, and how many later cells were ignored. */
export interface CodeCell {
  readonly prose: string;
  readonly code: string;
  /** False when the reply ended inside the cell (the cell runs to the end of the text). */
  readonly closed: boolean;
  /** Further fenced cells in the same reply, which do not run. */
  readonly ignoredCells: number;
}

const OPENER = /(`{3,})[ \t]*([A-Za-z0-9_+.-]*)[^\n`]*(?:\n|$)/g;

function closingFence(text: string, from: number, length: number): { start: number; end: number } | undefined {
  const closing = new RegExp(`^[ \\t]*\`{${length},}[ \\t]*$`, "gm");
  closing.lastIndex = from;
  for (let match = closing.exec(text); match !== null; match = closing.exec(text)) {
    if (match.index >= from) return { start: match.index, end: match.index + match[0].length };
  }
  return undefined;
}

/**
 * Finds the first fenced block whose info string is one of `tags` (case-insensitive), CommonMark
 * style: the fence is three or more backticks, the block ends at a line of at least as many
 * backticks, and an unclosed block runs to the end of the text. The opener may follow prose on
 * the same line. Fences with other tags are prose.
 */
export function findCodeCell(text: string, tags: readonly string[]): CodeCell | undefined {
  const wanted = new Set(tags.map((tag) => tag.toLowerCase()));
  let cell: { prose: string; code: string; closed: boolean; end: number } | undefined;
  let ignoredCells = 0;
  OPENER.lastIndex = 0;
  for (let match = OPENER.exec(text); match !== null; match = OPENER.exec(text)) {
    const fence = match[1] ?? "```";
    const tag = (match[2] ?? "").toLowerCase();
    const bodyStart = match.index + match[0].length;
    const closing = closingFence(text, bodyStart, fence.length);
    const end = closing?.end ?? text.length;
    if (wanted.has(tag)) {
      if (cell === undefined) {
        const code = text.slice(bodyStart, closing?.start ?? text.length).replace(/\n$/, "");
        cell = { prose: text.slice(0, match.index).trimEnd(), code, closed: closing !== undefined, end };
      } else {
        ignoredCells += 1;
      }
    }
    // Whatever the tag, the block's body is not searched for openers.
    OPENER.lastIndex = Math.max(end, OPENER.lastIndex);
    if (closing === undefined) break;
  }
  return cell === undefined ? undefined : { prose: cell.prose, code: cell.code, closed: cell.closed, ignoredCells };
}
