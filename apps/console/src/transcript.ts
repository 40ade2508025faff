import type { SessionGraphResponse } from "@lash/remote-protocol";
import type { AttachmentImages } from "./attachment-images.js";
import { h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

type GraphNode = SessionGraphResponse["nodes"][number];
type Message = Extract<GraphNode["payload"], { kind: "message" }>["message"];
type Part = Message["parts"][number];

/** Tool output longer than this is cut, with a button that shows the rest. */
export const MAX_SHOWN_OUTPUT = 2_000;

/** A branch of the graph: a node without followers, and the walk from it to the root. */
export interface Branch {
  readonly leafNodeId: string;
  readonly path: readonly GraphNode[];
  readonly active: boolean;
  readonly lastTimestamp: string;
  /** The first user text the branch does not share with the active one, for its label. */
  readonly label: string;
}

function pathTo(nodes: ReadonlyMap<string, GraphNode>, leafNodeId: string): GraphNode[] {
  const path: GraphNode[] = [];
  const seen = new Set<string>();
  let current = nodes.get(leafNodeId);
  while (current !== undefined && !seen.has(current.nodeId)) {
    seen.add(current.nodeId);
    path.push(current);
    current = current.parentNodeId === undefined ? undefined : nodes.get(current.parentNodeId);
  }
  return path.reverse();
}

function firstText(message: Message): string {
  for (const part of message.parts)
    if ((part.kind === "text" || part.kind === "prose") && part.content.trim() !== "") return part.content.trim();
  return "";
}

/** Every branch of the graph, the active one first, then the others newest first. */
export function branchesOf(graph: SessionGraphResponse): Branch[] {
  const byId = new Map(graph.nodes.map((node) => [node.nodeId, node]));
  const followed = new Set(graph.nodes.map((node) => node.parentNodeId).filter((id): id is string => id !== undefined));
  const leaves = graph.nodes.filter((node) => !followed.has(node.nodeId)).map((node) => node.nodeId);
  if (graph.leafNodeId !== undefined && !leaves.includes(graph.leafNodeId)) leaves.push(graph.leafNodeId);
  const activePath = graph.leafNodeId === undefined ? [] : pathTo(byId, graph.leafNodeId);
  const activeIds = new Set(activePath.map((node) => node.nodeId));
  const branches = leaves.map((leafNodeId): Branch => {
    const path = pathTo(byId, leafNodeId);
    const own = path.filter((node) => !activeIds.has(node.nodeId));
    const labelled = [...(own.length > 0 ? own : path)].find(
      (node) => node.payload.kind === "message" && node.payload.message.role === "user",
    );
    const label = labelled?.payload.kind === "message" ? firstText(labelled.payload.message) : "";
    return { leafNodeId, path, active: leafNodeId === graph.leafNodeId, lastTimestamp: path.at(-1)?.timestamp ?? "", label };
  });
  return branches.sort((left, right) => (left.active ? -1 : right.active ? 1 : right.lastTimestamp.localeCompare(left.lastTimestamp)));
}

function collapsible(summary: Node | string, body: Node, open = false): HTMLDetailsElement {
  return h("details", { open }, h("summary", {}, summary), body);
}

/** Text shown in full up to the limit, then cut with a button that shows the rest. */
export function truncatedText(text: string, className = "output"): HTMLElement {
  if (text.length <= MAX_SHOWN_OUTPUT) return h("pre", { class: className }, text);
  const pre = h("pre", { class: className }, text.slice(0, MAX_SHOWN_OUTPUT));
  const more = h(
    "button",
    {
      type: "button",
      class: "link",
      onclick: () => {
        pre.textContent = text;
        more.remove();
      },
    },
    `show all ${text.length.toLocaleString("en-US")} characters`,
  );
  return h("div", {}, pre, more);
}

function pretty(json: string): string {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

function imagePart(part: Extract<Part, { kind: "image" }>, images: AttachmentImages | undefined): HTMLElement {
  const { attachment } = part;
  const caption = h(
    "figcaption",
    {},
    `${attachment.label ?? "image"} · ${attachment.mediaType} · ${attachment.byteLength.toLocaleString("en-US")} bytes`,
    part.toolName === undefined ? "" : ` · from ${part.toolName}`,
  );
  // Without a loader, or for bytes that are no image, the attachment is named only.
  if (images === undefined || !attachment.mediaType.startsWith("image/")) {
    return h("figure", { class: "image" }, h("span", { class: "image-icon", "aria-hidden": "true" }, "▣"), caption);
  }
  const image = h("img", { class: "attachment-image", alt: attachment.label ?? attachment.mediaType, decoding: "async" });
  const figure = h("figure", { class: "image shown" }, image, caption);
  images.show(image, attachment.id, (reason) => {
    image.remove();
    caption.append(` · ${reason}`);
  });
  return figure;
}

function toolCall(call: Extract<Part, { kind: "tool_call" }>, result: Extract<Part, { kind: "tool_result" }> | undefined): HTMLElement {
  const status = result === undefined ? "pending" : "done";
  return h(
    "div",
    { class: `tool-call ${status}` },
    collapsible(
      h(
        "span",
        {},
        h("span", { class: "tool-mark", "aria-hidden": "true" }, result === undefined ? "…" : "⚙"),
        " ",
        h("code", {}, call.toolName),
        result === undefined ? " (no result)" : "",
      ),
      h(
        "div",
        { class: "tool-body" },
        h("div", { class: "label" }, "arguments"),
        truncatedText(pretty(call.inputJson), "arguments"),
        result === undefined ? "" : [h("div", { class: "label" }, "result"), truncatedText(result.content)],
      ),
    ),
  );
}

const STOP_TEXT: Readonly<Record<string, string>> = {
  cancelled: "cancelled",
  max_turns: "the model-call limit was reached",
  awaiting_approval: "waiting for approval",
  provider_error: "the provider failed",
  budget_exhausted: "the token budget ran out",
};

/** Why a turn stopped, in words. */
export function stopReason(stop: { readonly type: string }): string {
  return STOP_TEXT[stop.type] ?? stop.type.replaceAll("_", " ");
}

/**
 * The transcript of a branch: user and assistant messages, tool calls with their results, images
 * (loaded through `images`; named only without it), stopped turns.
 */
export function renderTranscript(path: readonly GraphNode[], images?: AttachmentImages): HTMLElement {
  const results = new Map<string, Extract<Part, { kind: "tool_result" }>>();
  for (const node of path) {
    if (node.payload.kind !== "message") continue;
    for (const part of node.payload.message.parts) if (part.kind === "tool_result") results.set(part.callId, part);
  }
  const list = h("ol", { class: "transcript" });
  for (const node of path) {
    const payload = node.payload;
    if (payload.kind === "turn_stopped") {
      list.append(h("li", { class: "stopped" }, h("strong", {}, `Turn ${payload.turnIndex} stopped: `), stopReason(payload.stop)));
      continue;
    }
    if (payload.kind !== "message") continue;
    const message = payload.message;
    const parts = message.parts.filter((part) => part.kind !== "tool_result");
    if (parts.length === 0) continue;
    const body = h("div", { class: "message-body" });
    for (const part of parts) {
      if (part.kind === "text" || part.kind === "prose") body.append(renderMarkdown(part.content));
      else if (part.kind === "reasoning")
        body.append(
          h(
            "div",
            { class: "reasoning" },
            collapsible("reasoning", h("pre", {}, part.content === "" ? "(withheld by the provider)" : part.content)),
          ),
        );
      else if (part.kind === "tool_call") body.append(toolCall(part, results.get(part.callId)));
      else if (part.kind === "image") body.append(imagePart(part, images));
      else body.append(h("p", { class: part.kind === "error" ? "note error" : "note" }, part.content));
    }
    const who = message.role === "user" ? "you" : message.role === "assistant" ? "assistant" : "system";
    list.append(
      h(
        "li",
        { class: `message ${message.role}` },
        h(
          "div",
          { class: "message-head" },
          h("span", { class: "who" }, who),
          h("time", { datetime: node.timestamp }, node.timestamp.slice(0, 19).replace("T", " ")),
        ),
        body,
      ),
    );
  }
  if (list.childElementCount === 0) list.append(h("li", { class: "empty" }, "No messages yet."));
  return list;
}
