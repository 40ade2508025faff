import { describe, expect, it } from "vitest";
import { parseJsonPath } from "./json-path.js";
import { requestMismatches } from "./request-match.js";
import { type WireScript, wireScriptSchema } from "./wire-script-schema.js";

function script(requestMatch: unknown): WireScript {
  return wireScriptSchema.parse({
    schema: "lash.provider-wire-script.v1",
    name: "s",
    provider_kind: "openai-compatible",
    endpoint: { method: "post", path: "/chat/completions" },
    request_match: requestMatch,
    timeline: [{ at: 0, event: "end" }],
  });
}

const request = {
  method: "POST",
  path: "/chat/completions?alt=sse",
  headers: { authorization: "Bearer k", "content-type": "application/json; charset=utf-8" },
  body: {
    model: "openai/gpt-5.4",
    stream: true,
    messages: [
      { role: "system", content: "be brief" },
      { role: "user", content: "answer directly please" },
    ],
    tools: [{ type: "function", function: { name: "lookup" } }],
    tags: ["a", { b: 1 }],
  },
};

describe("parseJsonPath", () => {
  it("splits keys and indexes", () => {
    expect(parseJsonPath("tools[0].function.name")).toEqual(["tools", 0, "function", "name"]);
    expect(parseJsonPath("request.contents[0].parts[0].text")).toEqual(["request", "contents", 0, "parts", 0, "text"]);
    expect(parseJsonPath("grid[1][2]")).toEqual(["grid", 1, 2]);
  });

  it.each(["", ".a", "a.", "a..b", "[0]", "a[x]", "a[0"])("rejects %j", (path) => {
    expect(parseJsonPath(path)).toBeUndefined();
  });
});

describe("requestMismatches", () => {
  it("accepts a matching request (query ignored, method case-insensitive)", () => {
    const matching = script({
      body: {
        model: { equals: "openai/gpt-5.4" },
        stream: { equals: true },
        "messages[1].role": { equals: "user" },
        "messages[1].content": { contains: "answer directly" },
        messages: { contains_role: "user" },
        "tools[0].function.name": { equals: "lookup" },
        tags: { contains: { b: 1 } },
        temperature: { present: false },
      },
      headers: { Authorization: { present: true }, "content-type": { contains: "application/json" } },
    });
    expect(requestMismatches(matching, request)).toEqual([]);
  });

  it("explains every difference", () => {
    const strict = script({
      body: {
        model: { equals: "gpt-5.4" },
        stream: { equals: false },
        "messages[5].role": { equals: "user" },
        messages: { contains_role: "tool" },
        "tools[0].function.name": { contains: "search" },
        model2: { present: true },
      },
      headers: { "x-api-key": { present: true }, "content-type": { contains: "text/plain" }, authorization: { present: false } },
    });
    const reasons = requestMismatches(strict, { ...request, method: "GET", path: "/v1/chat/completions" });
    expect(reasons).toEqual([
      "method should be POST but is GET",
      "path should be /chat/completions but is /v1/chat/completions",
      'body.model should equal "gpt-5.4" but is "openai/gpt-5.4"',
      "body.stream should equal false but is true",
      "body.messages[5].role is missing",
      expect.stringContaining('body.messages should hold a message with role "tool"'),
      'body.tools[0].function.name should contain "search" but is "lookup"',
      "body.model2 is missing",
      "headers.x-api-key is missing",
      'headers.content-type should contain "text/plain" but is "application/json; charset=utf-8"',
      'headers.authorization should be absent but is "Bearer k"',
    ]);
  });

  it("reports a missing or non-JSON body against body matchers", () => {
    expect(requestMismatches(script({ body: { model: { equals: "m" } } }), { ...request, body: undefined })).toEqual([
      "body.model is missing",
    ]);
  });

  it("skips ignored matchers", () => {
    const strict = script({ body: { stream: { equals: false } }, headers: { "anthropic-beta": { present: true } } });
    expect(requestMismatches(strict, request, { ignoredMatchers: ["body.stream", "headers.anthropic-beta"] })).toEqual([]);
  });

  it("does not read inherited properties", () => {
    expect(requestMismatches(script({ body: { "model.constructor": { present: true } } }), request)).toEqual([
      "body.model.constructor is missing",
    ]);
  });
});
