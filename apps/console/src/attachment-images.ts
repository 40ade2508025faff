import { authHeaders, encode } from "./api.js";

/**
 * Loads a session's images for the transcript. An `<img src>` cannot send the API key, so each
 * image is fetched with it and shown from a blob URL; the URLs are kept per attachment (a
 * transcript drawn again reuses them) until `revokeAll`, called when the page is left.
 */
export class AttachmentImages {
  readonly #sessionId: string;
  readonly #urls = new Map<string, Promise<string>>();
  /** The images still loading each blob URL: a URL is freed only once none is (see `revokeAll`). */
  readonly #loading = new Map<string, Set<HTMLImageElement>>();
  #revoked = false;

  constructor(sessionId: string) {
    this.#sessionId = sessionId;
  }

  /** Shows attachment `attachmentId` in `image`; `onFailure` says why when it cannot be loaded. */
  show(image: HTMLImageElement, attachmentId: string, onFailure: (reason: string) => void): void {
    this.#url(attachmentId).then(
      (url) => {
        // The page was left while the image was fetched: it is no longer shown, and its URL is freed.
        if (this.#revoked) return;
        this.#track(image, url);
        image.src = url;
      },
      (error: unknown) => onFailure(error instanceof Error ? error.message : String(error)),
    );
  }

  /**
   * Frees every blob URL made so far; images loaded afterwards are not kept. A URL an image is
   * still loading is freed when that image has loaded (or failed): freed before, the browser
   * reports the image's load as failed (`ERR_FILE_NOT_FOUND`), as a page left quickly would.
   */
  revokeAll(): void {
    this.#revoked = true;
    for (const pending of this.#urls.values()) {
      pending
        .then((url) => {
          if (!this.#loading.has(url)) URL.revokeObjectURL(url);
        })
        .catch(() => undefined);
    }
    this.#urls.clear();
  }

  /** Keeps `url` from being freed while `image` loads it. */
  #track(image: HTMLImageElement, url: string): void {
    let images = this.#loading.get(url);
    if (images === undefined) {
      images = new Set();
      this.#loading.set(url, images);
    }
    images.add(image);
    const settled = (): void => {
      image.removeEventListener("load", settled);
      image.removeEventListener("error", settled);
      images.delete(image);
      if (images.size > 0) return;
      this.#loading.delete(url);
      if (this.#revoked) URL.revokeObjectURL(url);
    };
    image.addEventListener("load", settled);
    image.addEventListener("error", settled);
  }

  #url(attachmentId: string): Promise<string> {
    const known = this.#urls.get(attachmentId);
    if (known !== undefined) return known;
    const loading = this.#load(attachmentId);
    if (!this.#revoked) this.#urls.set(attachmentId, loading);
    return loading;
  }

  async #load(attachmentId: string): Promise<string> {
    const response = await fetch(`/v1/sessions/${encode(this.#sessionId)}/attachments/${encode(attachmentId)}`, { headers: authHeaders() });
    if (!response.ok) throw new Error(`not available (${response.status})`);
    const url = URL.createObjectURL(await response.blob());
    // Left meanwhile: nothing will revoke it later.
    if (this.#revoked) queueMicrotask(() => URL.revokeObjectURL(url));
    return url;
  }
}
