import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ApiKeyIdTakenError, type ServerAccessStore, type StoredApiKey } from "../store/access-store.js";
import { isTenantName, TENANT_NAME_PATTERN } from "./tenant-name.js";

/**
 * An API key is `lsk_<id>_<secret>`: `id` is 12 hex digits (48 random bits), public, shown in
 * listings and used to find the key's row; `secret` is 32 random bytes in base64url (43
 * characters). Only the SHA-256 of the whole key is stored: a key carries 256 random bits, so a
 * fast hash is as safe as a slow one (there is nothing to guess), and checking a key costs one hash.
 */
const KEY_PREFIX = "lsk_";
const KEY_PATTERN = /^lsk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;
const ID_PATTERN = /^(?:lsk_)?([0-9a-f]{12})$/;
const ID_BYTES = 6;
const SECRET_BYTES = 32;
/** The longest key name, in characters. */
export const MAX_KEY_NAME_LENGTH = 100;

/** Compared with when a key's id matches no row, so that both cases cost the same hash and comparison. */
const NO_SUCH_KEY_HASH = createHash("sha256").update("lash-server: no such key").digest();

/** What may be shown about a key: everything but its hash. */
export interface ApiKeyInfo {
  /** The key's public id (12 hex digits). */
  readonly id: string;
  /** The visible start of the key (`lsk_<id>`), to recognise it. */
  readonly prefix: string;
  readonly tenant: string;
  readonly name?: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}

/** A key just created: `key` is its only appearance anywhere. */
export interface CreatedApiKey {
  readonly key: string;
  readonly info: ApiKeyInfo;
}

/** A request to create a key the server cannot accept (a bad tenant or name). */
export class ApiKeyRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ApiKeyRequestError";
  }
}

/** The tenant and key a request authenticated with. */
export interface VerifiedApiKey {
  readonly keyId: string;
  readonly tenant: string;
}

/** SHA-256 of a key, lowercase hex, as stored. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

function infoOf(key: StoredApiKey): ApiKeyInfo {
  return {
    id: key.id,
    prefix: `${KEY_PREFIX}${key.id}`,
    tenant: key.tenant,
    ...(key.name === undefined ? {} : { name: key.name }),
    createdAt: key.createdAt,
    ...(key.revokedAt === undefined ? {} : { revokedAt: key.revokedAt }),
  };
}

/**
 * Creates a key for `tenant` and stores its hash: the one code path of `lash-server keys create`
 * and of hosts and tests. The returned `key` is shown once and never stored.
 */
export async function createApiKey(
  access: ServerAccessStore,
  request: { readonly tenant: string; readonly name?: string | undefined; readonly now?: Date },
): Promise<CreatedApiKey> {
  if (!isTenantName(request.tenant)) {
    throw new ApiKeyRequestError(
      `the tenant ${JSON.stringify(request.tenant)} is not a valid tenant name (${TENANT_NAME_PATTERN.source}: lowercase letters, digits, . _ -)`,
    );
  }
  const name = request.name;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what a name may not hold.
  if (name !== undefined && (name === "" || name.length > MAX_KEY_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name))) {
    throw new ApiKeyRequestError(`a key's name must be 1 to ${MAX_KEY_NAME_LENGTH} printable characters`);
  }
  const createdAt = (request.now ?? new Date()).toISOString();
  // 48-bit ids collide rarely; a collision draws another id rather than failing.
  for (let attempt = 0; ; attempt += 1) {
    const id = randomBytes(ID_BYTES).toString("hex");
    const key = `${KEY_PREFIX}${id}_${randomBytes(SECRET_BYTES).toString("base64url")}`;
    const stored: StoredApiKey = { id, tenant: request.tenant, ...(name === undefined ? {} : { name }), hash: hashApiKey(key), createdAt };
    try {
      await access.insertApiKey(stored);
    } catch (error) {
      if (error instanceof ApiKeyIdTakenError && attempt < 5) continue;
      throw error;
    }
    return { key, info: infoOf(stored) };
  }
}

/** Every key, revoked ones included, without hashes. */
export async function listApiKeys(access: ServerAccessStore): Promise<ApiKeyInfo[]> {
  return (await access.listApiKeys()).map(infoOf);
}

/** True when at least one key is not revoked: the server then requires keys. */
export async function hasActiveApiKeys(access: ServerAccessStore): Promise<boolean> {
  return (await access.listApiKeys()).some((key) => key.revokedAt === undefined);
}

/** The id in `lsk_<id>` or `<id>`, or `undefined` when it is neither. */
export function parseApiKeyId(text: string): string | undefined {
  return ID_PATTERN.exec(text)?.[1];
}

/** Revokes a key by its id (or `lsk_<id>`); `undefined` when there is no such key. A revoked key stays revoked. */
export async function revokeApiKey(access: ServerAccessStore, idOrPrefix: string, now: Date = new Date()): Promise<ApiKeyInfo | undefined> {
  const id = parseApiKeyId(idOrPrefix);
  if (id === undefined) return undefined;
  const revoked = await access.revokeApiKey(id, now.toISOString());
  return revoked === undefined ? undefined : infoOf(revoked);
}

/**
 * The tenant of a presented key, or `undefined` for anything that is not an active key: malformed,
 * unknown id, wrong secret, revoked. The hash is compared in constant time, and a key whose id
 * matches no row is compared with a fixed hash, so the answer takes the same steps whether the id
 * exists or not; callers answer every failure the same way.
 */
export async function verifyApiKey(access: ServerAccessStore, presented: string): Promise<VerifiedApiKey | undefined> {
  const id = KEY_PATTERN.exec(presented)?.[1];
  if (id === undefined) return undefined;
  const stored = await access.findApiKey(id);
  const expected = stored === undefined || !/^[0-9a-f]{64}$/.test(stored.hash) ? NO_SUCH_KEY_HASH : Buffer.from(stored.hash, "hex");
  const matches = timingSafeEqual(createHash("sha256").update(presented, "utf8").digest(), expected);
  if (!matches || stored === undefined || stored.revokedAt !== undefined) return undefined;
  return { keyId: stored.id, tenant: stored.tenant };
}
