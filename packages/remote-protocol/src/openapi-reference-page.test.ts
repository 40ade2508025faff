import { describe, expect, it } from "vitest";
import { createOpenApiDocument } from "./openapi-document.js";
import { renderApiReferencePage } from "./openapi-reference-page.js";

describe("renderApiReferencePage", () => {
  const document = createOpenApiDocument({ version: "1.2.3" });
  const page = renderApiReferencePage(document);

  it("lists every operation of the document, with its summary, and every named schema", () => {
    const paths = document.paths as Record<string, Record<string, { operationId?: string; summary?: string }>>;
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect(page, `${method} ${path}`).toContain(`${method.toUpperCase()}</span> <code>${path}</code>`);
        expect(page).toContain(`id="op-${String(operation.operationId).replace(/[^A-Za-z0-9]+/g, "-")}"`);
      }
    }
    const schemas = Object.keys((document.components as { schemas: Record<string, unknown> }).schemas);
    expect(schemas.length).toBeGreaterThan(10);
    for (const name of schemas) expect(page).toContain(`<h3><code>${name}</code></h3>`);
    expect(page).toContain("<title>lash server 1.2.3: API reference</title>");
    // Links to named schemas resolve to their sections.
    for (const [, target] of page.matchAll(/href="#(schema-[^"]+)"/g)) expect(page).toContain(`id="${target}"`);
  });

  it("is self-contained (no script, nothing loaded from elsewhere) and escapes what the document says", () => {
    expect(page).not.toMatch(/<script|<link|src=|https?:\/\/(?!json-schema\.org)/);
    const hostile = renderApiReferencePage({
      openapi: "3.1.0",
      info: { title: "<img src=x onerror=alert(1)>", version: "1" },
      paths: { "/x": { get: { operationId: "x", summary: "a `<b>` tag & more", responses: { "200": { description: '"quoted"' } } } } },
    });
    expect(hostile).not.toContain("<img");
    expect(hostile).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(hostile).toContain("a <code>&lt;b&gt;</code> tag &amp; more");
    expect(hostile).toContain("&quot;quoted&quot;");
  });
});
