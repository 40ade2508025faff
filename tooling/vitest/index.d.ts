import type { UserWorkspaceConfig } from "vitest/config";

/** The shared per-package test project: source export condition, node environment, co-located tests. */
export declare function lashProject(name: string, overrides?: UserWorkspaceConfig): UserWorkspaceConfig;
