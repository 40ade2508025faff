interface Link<Key, Value> {
  readonly key: Key;
  value: Value;
  older: Link<Key, Value> | undefined;
  newer: Link<Key, Value> | undefined;
}

/**
 * A map that knows which of its entries was set least recently: the bounded memories of the server
 * (ended turns, traces, parked sessions, live runtimes) drop their oldest entry first, one or more
 * per request. A `Map`'s insertion order would say the same, but reaching its first entry
 * (`keys().next()`) after many deletions at its front skips every deleted slot the engine has not
 * compacted yet, up to the map's capacity per call; here the oldest entry is one link away.
 */
export class RecencyMap<Key, Value> {
  readonly #links = new Map<Key, Link<Key, Value>>();
  #oldest: Link<Key, Value> | undefined;
  #newest: Link<Key, Value> | undefined;

  get size(): number {
    return this.#links.size;
  }

  get(key: Key): Value | undefined {
    return this.#links.get(key)?.value;
  }

  /** Sets `key` to `value` and makes it the newest entry (an existing key moves). */
  set(key: Key, value: Value): void {
    const existing = this.#links.get(key);
    if (existing !== undefined) {
      existing.value = value;
      if (existing !== this.#newest) {
        this.#unlink(existing);
        this.#append(existing);
      }
      return;
    }
    const link: Link<Key, Value> = { key, value, older: undefined, newer: undefined };
    this.#links.set(key, link);
    this.#append(link);
  }

  /** Removes `key`; true when it was there. */
  delete(key: Key): boolean {
    const link = this.#links.get(key);
    if (link === undefined) return false;
    this.#links.delete(key);
    this.#unlink(link);
    return true;
  }

  /** The key set least recently, if any. */
  oldestKey(): Key | undefined {
    return this.#oldest?.key;
  }

  /** The entries, oldest first. Deleting the entry just yielded is safe; other changes during the walk are not. */
  *entries(): Generator<[Key, Value], void, undefined> {
    for (let link = this.#oldest; link !== undefined; ) {
      const newer = link.newer;
      yield [link.key, link.value];
      link = newer;
    }
  }

  /** The values, oldest first (see `entries`). */
  *values(): Generator<Value, void, undefined> {
    for (const [, value] of this.entries()) yield value;
  }

  /** The first value, oldest first, that `test` accepts. */
  findOldest(test: (value: Value) => boolean): Value | undefined {
    for (let link = this.#oldest; link !== undefined; link = link.newer) if (test(link.value)) return link.value;
    return undefined;
  }

  #append(link: Link<Key, Value>): void {
    link.older = this.#newest;
    link.newer = undefined;
    if (this.#newest === undefined) this.#oldest = link;
    else this.#newest.newer = link;
    this.#newest = link;
  }

  #unlink(link: Link<Key, Value>): void {
    if (link.older === undefined) this.#oldest = link.newer;
    else link.older.newer = link.newer;
    if (link.newer === undefined) this.#newest = link.older;
    else link.newer.older = link.older;
    link.older = undefined;
    link.newer = undefined;
  }
}
