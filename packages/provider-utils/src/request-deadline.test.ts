import { ProviderCallError } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startRequestDeadline } from "./request-deadline.js";

const timeouts = { requestTimeoutMs: 1_000, chunkTimeoutMs: 200 };

describe("startRequestDeadline", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("aborts with a retryable timeout failure when no response starts in time", () => {
    const deadline = startRequestDeadline({ timeouts });
    vi.advanceTimersByTime(999);
    expect(deadline.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(deadline.signal.aborted).toBe(true);
    const failure = deadline.timedOut();
    expect(failure).toMatchObject({ kind: "timeout", code: "timeout", retryable: true });
    expect(failure?.message).toContain("requestTimeoutMs");
    expect(ProviderCallError.isInstance(deadline.signal.reason)).toBe(true);
    expect((deadline.signal.reason as ProviderCallError).failure).toEqual(failure);
    deadline.dispose();
  });

  it("switches to the chunk timeout once the response started", () => {
    const deadline = startRequestDeadline({ timeouts });
    vi.advanceTimersByTime(900);
    deadline.responseStarted();
    vi.advanceTimersByTime(150);
    deadline.chunkReceived();
    vi.advanceTimersByTime(150);
    deadline.chunkReceived();
    vi.advanceTimersByTime(199);
    expect(deadline.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.timedOut()?.message).toContain("chunkTimeoutMs");
    deadline.dispose();
  });

  it("counts a first chunk as the response start", () => {
    const deadline = startRequestDeadline({ timeouts });
    deadline.chunkReceived();
    vi.advanceTimersByTime(199);
    expect(deadline.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(deadline.timedOut()?.message).toContain("chunkTimeoutMs");
    deadline.dispose();
  });

  it("does not restart the chunk timer when responseStarted is reported twice", () => {
    const deadline = startRequestDeadline({ timeouts });
    deadline.responseStarted();
    vi.advanceTimersByTime(150);
    deadline.responseStarted();
    vi.advanceTimersByTime(50);
    expect(deadline.signal.aborted).toBe(true);
    deadline.dispose();
  });

  it("never fires a disabled timeout", () => {
    const deadline = startRequestDeadline({ timeouts: { requestTimeoutMs: null, chunkTimeoutMs: null } });
    expect(vi.getTimerCount()).toBe(0);
    deadline.responseStarted();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000_000);
    expect(deadline.signal.aborted).toBe(false);
    deadline.dispose();
  });

  it("passes the caller's abort through with the caller's reason and no timeout failure", () => {
    const caller = new AbortController();
    const deadline = startRequestDeadline({ timeouts, signal: caller.signal });
    const reason = new Error("turn cancelled");
    caller.abort(reason);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBe(reason);
    expect(deadline.timedOut()).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    deadline.dispose();
  });

  it("starts aborted when the caller's signal already aborted, without arming a timer", () => {
    const caller = new AbortController();
    caller.abort();
    const deadline = startRequestDeadline({ timeouts, signal: caller.signal });
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBe(caller.signal.reason);
    expect(vi.getTimerCount()).toBe(0);
    deadline.dispose();
  });

  it("clears its timers and detaches from the caller on dispose", () => {
    const caller = new AbortController();
    const deadline = startRequestDeadline({ timeouts, signal: caller.signal });
    deadline.responseStarted();
    expect(vi.getTimerCount()).toBe(1);
    deadline.dispose();
    deadline.dispose();
    expect(vi.getTimerCount()).toBe(0);
    caller.abort();
    expect(deadline.signal.aborted).toBe(false);
    deadline.chunkReceived();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps the first timeout when the caller aborts afterwards", () => {
    const caller = new AbortController();
    const deadline = startRequestDeadline({ timeouts, signal: caller.signal });
    vi.advanceTimersByTime(1_000);
    caller.abort();
    expect(deadline.timedOut()?.kind).toBe("timeout");
    expect(ProviderCallError.isInstance(deadline.signal.reason)).toBe(true);
    deadline.dispose();
  });

  it("leaves no timer behind after a timeout fired", () => {
    const deadline = startRequestDeadline({ timeouts });
    vi.advanceTimersByTime(1_000);
    deadline.chunkReceived();
    expect(vi.getTimerCount()).toBe(0);
    deadline.dispose();
  });
});
