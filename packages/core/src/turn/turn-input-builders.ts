import type { InputItem, TurnInput } from "@lash/protocol";

/** A turn input with one text item. */
export function textInput(text: string): TurnInput {
  return { items: [{ type: "text", text }] };
}

/** A turn input from items. */
export function itemsInput(items: readonly InputItem[]): TurnInput {
  return { items: [...items] };
}

/** Adds an image (pushes an `image_ref` item and stores the bytes under `id`). */
export function withImage(input: TurnInput, id: string, bytes: Uint8Array): TurnInput {
  return {
    ...input,
    items: [...input.items, { type: "image_ref", id }],
    imageBlobs: { ...input.imageBlobs, [id]: bytes },
  };
}
