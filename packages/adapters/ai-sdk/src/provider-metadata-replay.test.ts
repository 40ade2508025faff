import { describe, expect, it } from "vitest";
import {
  cleanProviderMetadata,
  mergeProviderMetadata,
  REASONING_METADATA_PREFIX,
  reasoningProviderOptions,
  reasoningReplayFromMetadata,
  toolCallProviderOptions,
  toolCallReplayFromMetadata,
} from "./provider-metadata-replay.js";

describe("provider metadata ↔ lash replay records", () => {
  it("round-trips reasoning metadata through the replay record", () => {
    const metadata = { openai: { itemId: "rs_9", reasoningEncryptedContent: "enc" }, other: { flag: true } };
    const replay = reasoningReplayFromMetadata(metadata);
    expect(replay).toEqual({
      itemId: "rs_9",
      encryptedContent: `${REASONING_METADATA_PREFIX}${JSON.stringify(metadata)}`,
      redacted: false,
      summary: [],
    });
    expect(reasoningProviderOptions(replay)).toEqual(metadata);
  });

  it("round-trips tool-call metadata through the replay record", () => {
    const metadata = { google: { thoughtSignature: "sig" } };
    const replay = toolCallReplayFromMetadata(metadata);
    expect(replay).toEqual({ opaque: { aiSdkProviderMetadata: metadata } });
    expect(toolCallProviderOptions(replay)).toEqual(metadata);
  });

  it("ignores replay records written by other adapters", () => {
    expect(reasoningProviderOptions({ encryptedContent: "gAAAA", redacted: false, summary: [] })).toBeUndefined();
    expect(reasoningProviderOptions(undefined)).toBeUndefined();
    expect(toolCallProviderOptions({ itemId: "fc_1", opaque: { responses: { status: "completed" } } })).toBeUndefined();
    expect(toolCallProviderOptions({ opaque: "text" })).toBeUndefined();
  });

  it("keeps only JSON data, and nothing when nothing is left", () => {
    expect(cleanProviderMetadata({ a: { kept: 1, dropped: undefined }, empty: {} })).toEqual({ a: { kept: 1 } });
    expect(cleanProviderMetadata({ empty: {} })).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(cleanProviderMetadata({ a: cyclic as never })).toBeUndefined();
    expect(reasoningReplayFromMetadata(undefined)).toBeUndefined();
  });

  it("merges metadata that arrives in pieces, later keys winning per namespace", () => {
    expect(mergeProviderMetadata({ openai: { itemId: "rs", enc: null } }, { openai: { enc: "x" }, anthropic: { signature: "s" } })).toEqual(
      {
        openai: { itemId: "rs", enc: "x" },
        anthropic: { signature: "s" },
      },
    );
    expect(mergeProviderMetadata(undefined, undefined)).toBeUndefined();
  });
});
