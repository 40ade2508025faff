// `@lash/core/rxjs`: the rxjs view of a turn. rxjs is an optional peer of `@lash/core`, needed by
// this entry point only.
export type { ObservedTurn } from "./observe-turn.js";
export { activitiesOf, observeTurn } from "./observe-turn.js";
