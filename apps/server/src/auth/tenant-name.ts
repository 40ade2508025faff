/**
 * The tenant of a server without API keys, and of sessions that name none (created before tenants
 * existed, or by the `lash` command in the same store). A key for the tenant `local` reaches them.
 */
export const LOCAL_TENANT = "local";

/**
 * A tenant's name: lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, at
 * most 64 characters. Lowercase only, so that two tenants never differ by case alone (a filesystem
 * store keeps tenants as folder names, and some filesystems ignore case).
 */
export const TENANT_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** True when `name` is a valid tenant name. */
export function isTenantName(name: string): boolean {
  return TENANT_NAME_PATTERN.test(name);
}
