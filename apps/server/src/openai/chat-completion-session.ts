import { randomUUID } from "node:crypto";
import { LashRuntime } from "@lash/core";
import type { Message, SessionNodeRecord } from "@lash/protocol";
import { HttpError } from "../http/http-error.js";
import type { PreparedProfile } from "../profiles/profile-environments.js";
import type { ServerContext } from "../server-context.js";
import { initialSessionState, type ServerSessionRecord } from "../sessions/server-session-record.js";
import type { SessionLease } from "../sessions/session-runtimes.js";
import type { ChatCompletionPlan } from "./chat-completion-request.js";

/** The session graph of a conversation that starts with `messages`: one chain of message nodes. */
function historyGraph(messages: readonly Message[]): { nodes: SessionNodeRecord[]; leafNodeId?: string } {
  const timestamp = new Date().toISOString();
  const nodes: SessionNodeRecord[] = messages.map((message, index) => ({
    nodeId: message.id,
    ...(index === 0 ? {} : { parentNodeId: messages[index - 1]?.id }),
    timestamp,
    payload: { kind: "message", message },
  }));
  const leaf = nodes.at(-1);
  return leaf === undefined ? { nodes } : { nodes, leafNodeId: leaf.nodeId };
}

/**
 * Creates a session whose conversation starts with `history` (the messages a stateless client sent
 * before its new one), committed before its first turn, as `SessionRuntimes.create` commits an
 * empty one (owner first, so the session is never missing from its tenant's listing). Its runtime
 * is parked; the next lease loads it from the store.
 */
async function createSeededSession(
  context: ServerContext,
  sessionId: string,
  profile: PreparedProfile,
  record: ServerSessionRecord,
  history: readonly Message[],
): Promise<void> {
  await context.store.access.assignSession(sessionId, record.tenant);
  try {
    await writeSeededSession(context, sessionId, profile, record, history);
  } catch (error) {
    await context.store.access.unassignSession(sessionId).catch(() => undefined);
    throw error;
  }
}

async function writeSeededSession(
  context: ServerContext,
  sessionId: string,
  profile: PreparedProfile,
  record: ServerSessionRecord,
  history: readonly Message[],
): Promise<void> {
  const store = context.store.openSession(sessionId);
  const runtime = await LashRuntime.builder()
    .withEnvironment(profile.environment)
    .withSessionId(sessionId)
    .withStore(store)
    .withPolicy({ model: profile.model, providerId: profile.providerId, maxContextTokens: profile.maxContextTokens })
    .withInitialState({ ...initialSessionState(sessionId, record), sessionGraph: historyGraph(history) })
    .build();
  await runtime.park();
  await store.saveSessionMeta({
    sessionId,
    sessionName: sessionId,
    createdAt: record.createdAt,
    model: profile.model,
    relation: { type: "root" },
  });
}

/**
 * The session a completion runs in, leased for `tenant`: the one the request names (it must run
 * the profile `model` names), or a new one of the tenant with the request's earlier messages as its
 * history. An unknown profile is a 404 (`model_not_found` in OpenAI's words), an unknown session
 * (or another tenant's) a 404 too.
 */
export async function leaseChatSession(context: ServerContext, plan: ChatCompletionPlan, tenant: string): Promise<SessionLease> {
  const profile = context.profiles.get(plan.profileName);
  if (profile === undefined) {
    throw new HttpError(
      "unknown_profile",
      `the model \`${plan.profileName.slice(0, 64)}\` does not exist: models are the server's agent profiles`,
      {
        status: 404,
        details: { param: "model", profiles: context.profiles.names },
      },
    );
  }
  if (plan.sessionId !== undefined) {
    const lease = await context.runtimes.acquire(plan.sessionId, tenant);
    const running = lease.session.record.profile;
    if (running !== plan.profileName) {
      await lease.release();
      throw new HttpError(
        "invalid_request",
        `session ${plan.sessionId} runs the model \`${running}\`, not \`${plan.profileName.slice(0, 64)}\``,
        {
          details: { param: "model", sessionId: plan.sessionId, model: running },
        },
      );
    }
    return lease;
  }
  const sessionId = randomUUID();
  const record: ServerSessionRecord = {
    profile: plan.profileName,
    metadata: { ...plan.metadata },
    createdAt: new Date().toISOString(),
    tenant,
  };
  if (plan.history.length === 0) await context.runtimes.create(sessionId, profile, record);
  else await createSeededSession(context, sessionId, profile, record, plan.history);
  return context.runtimes.acquire(sessionId, tenant);
}
