import { ApprovalNotFoundError, LashError, StoreUnavailableError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { HttpError, toHttpError } from "./http-error.js";

describe("error statuses", () => {
  it("map runtime codes to statuses in one place", () => {
    const cases: Array<[LashError["code"], number]> = [
      ["invalid_argument", 400],
      ["approval_not_found", 404],
      ["turn_in_progress", 409],
      ["turn_awaiting_approval", 409],
      ["approval_already_decided", 409],
      ["approval_conflict", 409],
      ["no_suspended_turn", 409],
      ["provider_failure", 502],
      ["store_unavailable", 503],
      ["invalid_configuration", 500],
      ["invalid_persisted_data", 500],
    ];
    for (const [code, status] of cases) expect(toHttpError(new LashError(code, "x")).status, code).toBe(status);
  });

  it("keeps a typed error's facts in details, and says 503 when the store is behind a failure", () => {
    const notFound = toHttpError(new ApprovalNotFoundError("s1", ["a1"]));
    expect(notFound.body()).toMatchObject({ error: { code: "approval_not_found", details: { ids: ["a1"] } } });
    const load = new LashError("session_load_failed", "failed to load", { cause: new StoreUnavailableError("down") });
    expect(toHttpError(load)).toMatchObject({ code: "session_load_failed", status: 503 });
  });

  it("hides the message of an unexpected failure", () => {
    const failure = toHttpError(new Error("password=hunter2"));
    expect(failure).toBeInstanceOf(HttpError);
    expect(failure.body()).toEqual({ error: { code: "internal_error", message: "the server failed to handle this request" } });
    expect(failure.status).toBe(500);
  });
});
