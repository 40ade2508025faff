import { randomUUID } from "node:crypto";
import { chatCompletionRequestSchema, LASH_SESSION_ID_HEADER } from "@lash/remote-protocol";
import type { Hono } from "hono";
import { tenantOf } from "../auth/access-middleware.js";
import { readJsonBody } from "../http/read-json-body.js";
import { completionJsonResponse, completionStreamResponse } from "../openai/chat-completion-answer.js";
import { planChatCompletion } from "../openai/chat-completion-request.js";
import { leaseChatSession } from "../openai/chat-completion-session.js";
import { openAiErrorResponse } from "../openai/openai-error.js";
import { assertAcceptingWork, type ServerContext } from "../server-context.js";
import { startTurn } from "../turns/turn-runner.js";

/**
 * `POST /v1/chat/completions`: OpenAI's Chat Completions over lash sessions. `model` names an agent
 * profile; the session comes from the `x-lash-session-id` header or `metadata.session_id` (a new
 * one otherwise, seeded with the request's earlier messages); the last message is the turn's
 * input. Every error of this route is in OpenAI's shape, since its clients parse that one.
 */
export function registerOpenAiChatRoutes(app: Hono, context: ServerContext, report: (error: unknown) => void): void {
  app.post("/v1/chat/completions", async (c) => {
    try {
      assertAcceptingWork(context);
      const body = await readJsonBody(c.req.raw, chatCompletionRequestSchema, context.maxBodyBytes);
      const plan = planChatCompletion(body, c.req.header(LASH_SESSION_ID_HEADER));
      const lease = await leaseChatSession(context, plan, tenantOf(c));
      const sessionId = lease.session.sessionId;
      // Read now: the lease goes back to the pool when the turn ends.
      const inputExcludesCachedTokens = lease.session.runtime.provider.inputUsageExcludesCachedTokens === true;
      const turnId = randomUUID();
      const started = await startTurn(context.turns, {
        lease,
        turnId,
        concurrentTurns: lease.session.profile.concurrentTurns,
        turn: { input: { items: plan.input, traceTurnId: turnId } },
      });
      const options = {
        identity: { id: `chatcmpl-${turnId}`, created: Math.floor(Date.now() / 1000), model: plan.profileName, sessionId, turnId },
        includeUsage: plan.includeUsage,
        inputExcludesCachedTokens,
        heartbeatMs: context.heartbeatMs,
      };
      if (plan.stream) return completionStreamResponse(started, options, c.env);
      return await completionJsonResponse(started, options, c.req.raw.signal);
    } catch (error) {
      return openAiErrorResponse(error, report);
    }
  });
}
