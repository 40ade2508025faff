/**
 * The separator that puts exactly one blank line between an existing text and the next part (at
 * least two newlines in total, counting the ones already there); nothing before the first part.
 */
export function assistantTextSeparator(existing: string, next: string): string {
  if (existing === "" || next === "") return "";
  const trailing = existing.length - existing.replace(/\n+$/, "").length;
  const leading = next.length - next.replace(/^\n+/, "").length;
  return "\n".repeat(Math.max(0, 2 - trailing - leading));
}
