import { describe, expect, it } from "vitest";
import { createOpenApiDocument, MAX_IMAGE_ITEMS, turnRequestSchema } from "./index.js";

/** The smallest PNG signature, base64: enough for the schema (the server checks the bytes). */
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).toString("base64");

describe("image items of a turn's input", () => {
  it("take base64 bytes, refuse anything else and unknown fields", () => {
    expect(
      turnRequestSchema.parse({
        input: [
          { type: "text", text: "What is this?" },
          { type: "image", data: PNG },
        ],
      }).input,
    ).toHaveLength(2);
    for (const item of [
      { type: "image", data: "" },
      { type: "image", data: "not base64!" },
      { type: "image", data: `data:image/png;base64,${PNG}` },
      { type: "image", data: PNG, mediaType: "image/png" },
      { type: "image", url: "https://example.com/cat.png" },
    ]) {
      expect(turnRequestSchema.safeParse({ input: [item] }).success, JSON.stringify(item)).toBe(false);
    }
  });

  it(`allow at most ${MAX_IMAGE_ITEMS} images per turn`, () => {
    const images = (count: number) => Array.from({ length: count }, () => ({ type: "image", data: PNG }));
    expect(turnRequestSchema.safeParse({ input: images(MAX_IMAGE_ITEMS) }).success).toBe(true);
    expect(turnRequestSchema.safeParse({ input: images(MAX_IMAGE_ITEMS + 1) }).success).toBe(false);
  });
});

describe("API keys in the OpenAPI document", () => {
  const document = createOpenApiDocument();
  const paths = document.paths as Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;

  it("requires the bearer scheme on every /v1 operation, and lets the probes and the document go without", () => {
    expect((document.components as { securitySchemes: unknown }).securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: "http", scheme: "bearer" }),
    });
    expect(document.security).toEqual([{ apiKey: [] }]);
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const effective = operation.security ?? document.security;
        expect(effective, `${method} ${path}`).toEqual(path.startsWith("/v1/") ? [{ apiKey: [] }] : []);
      }
    }
  });

  it("lists 401 and 429 among the answers of the session routes", () => {
    const sessionRoutes = [
      "/v1/sessions",
      "/v1/sessions/{sessionId}",
      "/v1/sessions/{sessionId}/approvals",
      "/v1/sessions/{sessionId}/approvals/{approvalId}",
      "/v1/sessions/{sessionId}/turns",
      "/v1/sessions/{sessionId}/turns/{turnId}/cancel",
      "/v1/sessions/{sessionId}/turns/{turnId}/events",
      "/v1/sessions/{sessionId}/usage",
    ];
    for (const path of sessionRoutes) {
      for (const [method, operation] of Object.entries(paths[path] ?? {})) {
        expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(["401", "429"]));
      }
    }
    expect(Object.keys(paths["/healthz"]?.get?.responses ?? {})).not.toContain("401");
  });
});
