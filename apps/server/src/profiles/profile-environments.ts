import { createSubagentTools, LocalBackgroundTaskHost } from "@lash/background";
import { defaultContextWindow, RuntimeEnvironment } from "@lash/core";
import { McpToolProvider } from "@lash/mcp";
import { type BackgroundTaskHost, LashError } from "@lash/protocol";
import type { ServerStore } from "../store/server-store.js";
import {
  type AgentProfile,
  type ConcurrentTurnPolicy,
  DEFAULT_PROFILE_NAME,
  DEFAULT_TERMINATION,
  profilesWantTaskHost,
} from "./agent-profile.js";

/** A profile ready to run sessions: its shared environment and the policy fields a session needs. */
export interface PreparedProfile {
  readonly name: string;
  readonly environment: RuntimeEnvironment;
  readonly model: string;
  readonly providerId: string;
  readonly maxContextTokens: number;
  readonly concurrentTurns: ConcurrentTurnPolicy;
}

/** What every profile's environment shares. */
export interface ProfileEnvironmentOptions {
  /** Where subagents run; absent: an in-process host of the profiles' own when one wants subagents. */
  readonly backgroundTaskHost?: BackgroundTaskHost | undefined;
  /** Recorded with the usage of every turn (the date of the price table in force). */
  readonly priceTableDate?: string | undefined;
}

/**
 * One `RuntimeEnvironment` per profile, built once: the provider, tools, prompt and limits every
 * runtime of the profile shares, so building or resuming a session's runtime per request costs
 * the session's own state only. Sessions run with `active_path_only` residency: a live runtime
 * holds the path the next turn needs, not the whole history. Profiles with subagents run their
 * tasks on `backgroundTaskHost`, or, without one, on an in-process host of their own (closed by
 * `close()`).
 */
export class ProfileEnvironments {
  readonly #profiles = new Map<string, PreparedProfile>();
  readonly #ownHost: LocalBackgroundTaskHost | undefined;
  readonly #closers: (() => Promise<void>)[] = [];

  constructor(profiles: Readonly<Record<string, AgentProfile>>, store: ServerStore, options: ProfileEnvironmentOptions = {}) {
    const { backgroundTaskHost, priceTableDate } = options;
    if (profiles[DEFAULT_PROFILE_NAME] === undefined) {
      throw new LashError("invalid_configuration", `the server needs a \`${DEFAULT_PROFILE_NAME}\` agent profile`);
    }
    this.#ownHost = profilesWantTaskHost(profiles) && backgroundTaskHost === undefined ? new LocalBackgroundTaskHost() : undefined;
    const host = backgroundTaskHost ?? this.#ownHost;
    for (const [name, profile] of Object.entries(profiles)) {
      this.#profiles.set(name, prepare(name, profile, store, host, priceTableDate));
      if (profile.close !== undefined) this.#closers.push(profile.close);
    }
  }

  /**
   * Closes the in-process task host made for subagents (a host given by the caller is the caller's
   * to close) and what each profile owns (`AgentProfile.close`: its MCP servers).
   */
  async close(): Promise<void> {
    await Promise.all(this.#closers.map((close) => close().catch(() => undefined)));
    await this.#ownHost?.close();
  }

  /** The prepared profile named `name`, or `undefined`. */
  get(name: string): PreparedProfile | undefined {
    return this.#profiles.get(name);
  }

  /** The profile a session runs with: its own, else the default one (its profile was removed from the configuration since). */
  forSession(name: string): PreparedProfile {
    const profile = this.#profiles.get(name) ?? this.#profiles.get(DEFAULT_PROFILE_NAME);
    if (profile === undefined) throw new LashError("invalid_configuration", `no \`${DEFAULT_PROFILE_NAME}\` agent profile`);
    return profile;
  }

  get names(): string[] {
    return [...this.#profiles.keys()];
  }
}

function prepare(
  name: string,
  profile: AgentProfile,
  store: ServerStore,
  host: BackgroundTaskHost | undefined,
  priceTableDate: string | undefined,
): PreparedProfile {
  const model = profile.model ?? profile.provider.defaultModel;
  if (model === undefined || model === "") {
    throw new LashError("invalid_configuration", `agent profile \`${name}\` names no model and its provider has no default model`);
  }
  let builder = RuntimeEnvironment.builder()
    .withProvider(profile.provider)
    .withSessionStoreFactory(store.factory)
    .withResidency("active_path_only")
    .withTermination(profile.termination ?? DEFAULT_TERMINATION);
  if (priceTableDate !== undefined) builder = builder.withPriceTableDate(priceTableDate);
  if (profile.tools !== undefined && profile.tools.length > 0) builder = builder.withTools(profile.tools);
  for (const provider of profile.toolProviders ?? []) {
    // MCP tools' images go to the store's attachments, as the sessions' own images do.
    const attachments = store.factory.attachments;
    if (provider instanceof McpToolProvider && attachments !== undefined) provider.useAttachmentStore(attachments);
    builder = builder.withToolProvider(provider);
  }
  const subagents = profile.subagents ?? false;
  if (subagents !== false && host !== undefined) {
    builder = builder.withBackgroundTaskHost(host).withToolProvider(createSubagentTools(subagents === true ? {} : subagents));
  }
  if (profile.systemPrompt !== undefined && profile.systemPrompt !== "")
    builder = builder.withPromptContribution({ slot: "project_instructions", content: profile.systemPrompt });
  if (profile.configureEnvironment !== undefined) builder = profile.configureEnvironment(builder);
  return {
    name,
    environment: builder.build(),
    model,
    providerId: profile.provider.providerId,
    maxContextTokens: profile.maxContextTokens ?? defaultContextWindow(model),
    concurrentTurns: profile.concurrentTurns ?? "reject",
  };
}
