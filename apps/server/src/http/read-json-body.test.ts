import { describe, expect, it } from "vitest";
import { z } from "zod";
import { HttpError } from "./http-error.js";
import { readBodyText, readJsonBody } from "./read-json-body.js";

function post(body: Uint8Array | string): Request {
  return new Request("http://localhost/", { method: "POST", headers: { "content-type": "application/json" }, body });
}

async function failure(promise: Promise<unknown>): Promise<HttpError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof HttpError)) throw new Error(`expected an HttpError, got ${String(error)}`);
  return error;
}

describe("readBodyText and readJsonBody", () => {
  it("refuses a body that is not UTF-8, a lone byte or a sequence cut short, and reads the next one as it is", async () => {
    for (const bytes of [new Uint8Array([0x7b, 0xff, 0x7d]), new Uint8Array([0x22, 0xe2, 0x82])]) {
      const error = await failure(readBodyText(post(bytes), 1024));
      expect(error.code).toBe("malformed_json");
      expect(error.message).toMatch(/not valid UTF-8/);
    }
    // The decoder keeps nothing of the bodies it refused.
    expect(await readBodyText(post('"\u20ac and more"'), 1024)).toEqual({ text: '"\u20ac and more"', bytes: 14 });
    const schema = z.strictObject({ input: z.string() });
    expect(await readJsonBody(post('{"input":"gr\u00fc\u00dfe"}'), schema, 1024)).toEqual({ input: "gr\u00fc\u00dfe" });
  });

  it("refuses a declared length over the limit before reading, and counts a body of undeclared length", async () => {
    const declared = new Request("http://localhost/", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "20" },
      body: "x".repeat(20),
    });
    expect(declared.headers.get("content-length")).toBe("20");
    expect((await failure(readBodyText(declared, 10))).code).toBe("payload_too_large");
    // Nothing of it was read.
    expect(declared.bodyUsed).toBe(false);
    const chunked = new Request("http://localhost/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("x".repeat(8)));
          controller.enqueue(new TextEncoder().encode("y".repeat(8)));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect((await failure(readBodyText(chunked, 10))).code).toBe("payload_too_large");
  });
});
