import type { ErrorBody } from "@lash/remote-protocol";

const KEY_STORAGE = "lash.console.apiKey";

/** The API key entered in this tab, if any (kept in session storage: it ends with the tab). */
export function apiKey(): string | undefined {
  return sessionStorage.getItem(KEY_STORAGE) ?? undefined;
}

export function setApiKey(key: string | undefined): void {
  if (key === undefined || key === "") sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

/** A failed request: the server's error shape, or what went wrong on the way. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Called when the server wants a key (401): the shell asks for one. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const key = apiKey();
  return key === undefined ? extra : { ...extra, authorization: `Bearer ${key}` };
}

async function failure(response: Response): Promise<ApiError> {
  let code = "http_error";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as Partial<ErrorBody>;
    if (body.error !== undefined) {
      code = body.error.code;
      message = body.error.message;
    }
  } catch {
    // Not the error shape: the status says enough.
  }
  if (response.status === 401) onUnauthorized();
  return new ApiError(response.status, code, message);
}

/** A JSON request to the server this page came from. */
export async function request<Body>(path: string, options: { readonly method?: string; readonly body?: unknown } = {}): Promise<Body> {
  const response = await fetch(path, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers: authHeaders(options.body === undefined ? {} : { "content-type": "application/json" }),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as Body;
}

/** A request whose answer is a stream of events; the response once its status is known. */
export async function requestStream(
  path: string,
  options: { readonly method: string; readonly body?: unknown; readonly lastEventId?: number; readonly signal?: AbortSignal },
): Promise<Response> {
  const headers = authHeaders({ accept: "text/event-stream" });
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.lastEventId !== undefined) headers["last-event-id"] = String(options.lastEventId);
  const response = await fetch(path, {
    method: options.method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (!response.ok) throw await failure(response);
  return response;
}

export function encode(id: string): string {
  return encodeURIComponent(id);
}
