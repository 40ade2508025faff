import { createOpenApiDocument, type HealthResponse, type ReadinessResponse } from "@lash/remote-protocol";
import type { Hono } from "hono";
import { HttpError, toHttpError } from "../http/http-error.js";
import type { ServerContext } from "../server-context.js";

/** The probes and the API document. */
export function registerSystemRoutes(app: Hono, context: ServerContext): void {
  // Built once: it depends on the schemas only.
  let document: ReturnType<typeof createOpenApiDocument> | undefined;

  app.get("/healthz", (c) => c.json({ status: "ok" } satisfies HealthResponse));

  app.get("/readyz", async (c) => {
    if (context.draining) throw new HttpError("shutting_down", "the server is shutting down");
    try {
      await context.store.checkReady();
    } catch (error) {
      const failure = toHttpError(error);
      // Whatever the store threw, a store that does not answer means "not ready", which is 503.
      throw new HttpError("store_unavailable", `the store ${context.store.description} does not answer: ${failure.message}`, {
        status: 503,
      });
    }
    return c.json({ status: "ready" } satisfies ReadinessResponse);
  });

  app.get("/openapi.json", (c) => {
    document ??= createOpenApiDocument({ version: context.version });
    return c.json(document);
  });
}
