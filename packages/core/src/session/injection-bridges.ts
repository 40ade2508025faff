import type { AcceptedInjectedTurnInput, PluginMessage } from "@lash/protocol";

/**
 * Messages queued for the running turn that become part of the session (committed at the next
 * checkpoint). Plugins and hosts use it to add context while a turn works.
 */
export class TurnInjectionBridge {
  #queue: PluginMessage[] = [];

  enqueue(...messages: PluginMessage[]): void {
    this.#queue.push(...messages);
  }

  drain(): PluginMessage[] {
    const drained = this.#queue;
    this.#queue = [];
    return drained;
  }

  get size(): number {
    return this.#queue.length;
  }
}

/**
 * Input for the running turn (for example what a user typed while the agent worked): the model sees
 * it at the next checkpoint, but it is not persisted as part of the session.
 */
export class TurnInputInjectionBridge {
  #queue: AcceptedInjectedTurnInput[] = [];

  enqueue(input: AcceptedInjectedTurnInput): void {
    this.#queue.push(input);
  }

  drain(): AcceptedInjectedTurnInput[] {
    const drained = this.#queue;
    this.#queue = [];
    return drained;
  }

  get size(): number {
    return this.#queue.length;
  }
}
