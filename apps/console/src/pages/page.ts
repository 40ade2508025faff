/** A page of the console: draws itself into `root` for the route's parameters; returns what to do when it is left. */
export type Page = (root: HTMLElement, parameters: URLSearchParams, path: readonly string[]) => (() => void) | undefined;
