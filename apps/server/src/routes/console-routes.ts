import type { Hono } from "hono";
import { findConsoleDirectory, readConsoleFile } from "../console/console-assets.js";
import { HttpError } from "../http/http-error.js";

/** Where the server finds the console, or `false` to serve none. */
export interface ConsoleOptions {
  /** The built console's folder (an `index.html` and `assets/`); default: found as `findConsoleDirectory` says. */
  readonly directory?: string;
}

/**
 * Headers of every console response: scripts and styles from the server only (the build has no
 * inline script), the API on the same origin, images from the server or from the blob URLs the
 * transcript makes of attachments it fetched with the key (`data:` for the empty favicon), no framing, no sniffing, no referrer.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lash console: not built</title></head>
<body><h1>The lash console is not built</h1>
<p>This server found no built console. In a clone of the repository, build it with</p>
<pre>pnpm --filter @lash/console build</pre>
<p>(or <code>pnpm build</code>), then reload this page; <code>LASH_CONSOLE_DIR</code> points the server at a build elsewhere.
The API is served all the same: <a href="/reference">/reference</a> describes it.</p>
</body></html>
`;

/** `GET /` (the console's page) and `GET /assets/{name}` (its scripts and styles). The API needs no route of its own here. */
export function registerConsoleRoutes(app: Hono, options: ConsoleOptions): string | undefined {
  const directory = findConsoleDirectory(options.directory);
  app.get("/", async () => {
    const file = directory === undefined ? undefined : await readConsoleFile(directory);
    if (file === undefined) {
      return new Response(NOT_BUILT_PAGE, {
        status: 404,
        headers: { ...CONSOLE_SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
      });
    }
    return new Response(file.body, {
      headers: { ...CONSOLE_SECURITY_HEADERS, "content-type": file.contentType, "cache-control": "no-cache" },
    });
  });
  app.get("/assets/:name", async (c) => {
    const file = directory === undefined ? undefined : await readConsoleFile(directory, c.req.param("name"));
    if (file === undefined) throw new HttpError("not_found", "no such console asset");
    // Built asset names carry a hash of their content: they never change under the same name.
    return new Response(file.body, {
      headers: { ...CONSOLE_SECURITY_HEADERS, "content-type": file.contentType, "cache-control": "public, max-age=31536000, immutable" },
    });
  });
  return directory;
}
