import type { OpenApiDocument } from "./openapi-document.js";

/** A JSON object as the OpenAPI document holds it. */
type JsonObject = Readonly<Record<string, unknown>>;

const HTTP_METHODS = ["get", "post", "put", "patch", "delete"] as const;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Text for HTML: the five characters that could start markup or end an attribute are escaped. */
function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

/** The document's light markdown (`code` spans only) as HTML; everything else is escaped text. */
function prose(text: unknown): string {
  if (typeof text !== "string") return "";
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

/** An anchor id for a name: letters, digits and dashes only. */
function anchor(prefix: string, name: string): string {
  return `${prefix}-${name.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
}

const SCHEMA_REF = "#/components/schemas/";

/** A schema as a short label: a link to a named schema, or its type. */
function schemaLabel(schema: unknown): string {
  if (!isObject(schema)) return "";
  const ref = schema.$ref;
  if (typeof ref === "string" && ref.startsWith(SCHEMA_REF)) {
    const name = ref.slice(SCHEMA_REF.length);
    return `<a href="#${anchor("schema", name)}">${escapeHtml(name)}</a>`;
  }
  if (typeof schema.type === "string") return `<code>${escapeHtml(schema.type)}</code>`;
  return "<code>object</code>";
}

function contentRows(content: unknown): string {
  if (!isObject(content)) return "";
  return Object.entries(content)
    .map(([mediaType, body]) => `<code>${escapeHtml(mediaType)}</code> ${isObject(body) ? schemaLabel(body.schema) : ""}`)
    .join("<br>");
}

function parametersTable(parameters: unknown): string {
  if (!Array.isArray(parameters) || parameters.length === 0) return "";
  const rows = parameters
    .filter(isObject)
    .map(
      (parameter) =>
        `<tr><td><code>${escapeHtml(String(parameter.name ?? ""))}</code></td><td>${escapeHtml(String(parameter.in ?? ""))}</td><td>${parameter.required === true ? "yes" : "no"}</td><td>${schemaLabel(parameter.schema)}</td><td>${prose(parameter.description)}</td></tr>`,
    )
    .join("");
  return `<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>required</th><th>type</th><th>description</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function responsesTable(responses: unknown): string {
  if (!isObject(responses)) return "";
  const rows = Object.entries(responses)
    .map(([status, response]) => {
      const body = isObject(response) ? response : {};
      return `<tr><td><code>${escapeHtml(status)}</code></td><td>${prose(body.description)}</td><td>${contentRows(body.content)}</td></tr>`;
    })
    .join("");
  return `<h4>Responses</h4><table><thead><tr><th>status</th><th>description</th><th>body</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function operationSection(path: string, method: string, operation: JsonObject, secured: boolean): string {
  const id = anchor("op", String(operation.operationId ?? `${method}-${path}`));
  const requestBody = isObject(operation.requestBody) ? `<h4>Request body</h4><p>${contentRows(operation.requestBody.content)}</p>` : "";
  const security = Array.isArray(operation.security) ? operation.security.length > 0 : secured;
  return [
    `<section class="operation" id="${id}">`,
    `<h3><span class="method method-${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h3>`,
    `<p class="summary">${prose(operation.summary)}</p>`,
    operation.description === undefined ? "" : `<p>${prose(operation.description)}</p>`,
    `<p class="auth">${security ? "Needs an API key (<code>Authorization: Bearer &lt;key&gt;</code>) on servers that have keys." : "No credentials."}</p>`,
    parametersTable(operation.parameters),
    requestBody,
    responsesTable(operation.responses),
    "</section>",
  ].join("\n");
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:62rem;padding:1rem 1.5rem;color:#1d1d1f}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}pre{background:#f5f5f7;padding:.75rem;overflow:auto;border-radius:6px}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d2d2d7;padding:.3rem .5rem;text-align:left;vertical-align:top}
.method{display:inline-block;min-width:4.2rem;text-align:center;border-radius:4px;color:#fff;font-size:.8em;padding:.1rem .4rem;background:#6e6e73}
.method-get{background:#0a7d32}.method-post{background:#0058b0}.method-delete{background:#b3261e}.operation{border-top:1px solid #d2d2d7;margin-top:1.5rem}
nav ul{columns:2;padding-left:1.2rem}`;

/**
 * The API reference page of an OpenAPI document: one self-contained HTML page (no script, no
 * external style or font, so it renders offline and under a strict content security policy) with
 * every operation's summary, description, credentials, parameters, request body and responses, and
 * every named schema as JSON. Every text from the document is escaped.
 */
export function renderApiReferencePage(document: OpenApiDocument): string {
  const info = isObject(document.info) ? document.info : {};
  const paths = isObject(document.paths) ? document.paths : {};
  const secured = Array.isArray(document.security) && document.security.length > 0;
  const operations: { path: string; method: string; operation: JsonObject }[] = [];
  for (const path of Object.keys(paths).sort()) {
    const item = paths[path];
    if (!isObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (isObject(operation)) operations.push({ path, method, operation });
    }
  }
  const components = isObject(document.components) && isObject(document.components.schemas) ? document.components.schemas : {};
  const schemaNames = Object.keys(components).sort();
  const title = `${escapeHtml(String(info.title ?? "API"))} ${escapeHtml(String(info.version ?? ""))}`.trim();
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}: API reference</title><style>${STYLE}</style></head><body>`,
    `<h1>${title}</h1>`,
    `<p>${prose(info.description)}</p>`,
    '<p>The machine-readable document is <a href="/openapi.json"><code>/openapi.json</code></a> (OpenAPI 3.1).</p>',
    "<nav><h2>Operations</h2><ul>",
    ...operations.map(
      ({ path, method, operation }) =>
        `<li><a href="#${anchor("op", String(operation.operationId ?? `${method}-${path}`))}">${escapeHtml(method.toUpperCase())} <code>${escapeHtml(path)}</code></a></li>`,
    ),
    "</ul></nav>",
    "<main>",
    ...operations.map(({ path, method, operation }) => operationSection(path, method, operation, secured)),
    "<h2>Schemas</h2>",
    ...schemaNames.map(
      (name) =>
        `<section id="${anchor("schema", name)}"><h3><code>${escapeHtml(name)}</code></h3><pre>${escapeHtml(JSON.stringify(components[name], null, 2))}</pre></section>`,
    ),
    "</main></body></html>",
  ].join("\n");
}
