import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserTestsEnabled, type ConsoleServer, launchChromium, startConsoleServer, temporaryDirectory } from "./console-harness.js";
import { type SeededSessions, seedSessions, XSS_TOOL_OUTPUT } from "./seed-sessions.js";

const enabled = browserTestsEnabled();
const screenshots = fileURLToPath(new URL("../screenshots/", import.meta.url));
const updateScreenshots = process.env.LASH_UPDATE_SCREENSHOTS === "1";

/** The server's model: one answer that streams, one long enough to stop, one that outlives a reload. */
const SERVER_STEPS = [
  {
    text: "Streaming this answer in pieces, one small chunk after another, so you can watch it arrive.",
    chunks: 10,
    chunkDelayMs: 120,
    usage: { input: 520, output: 24 },
  },
  {
    text: `A long answer that will be stopped. ${"More words keep coming. ".repeat(40)}`,
    chunks: 60,
    chunkDelayMs: 200,
    usage: { input: 540, output: 300 },
  },
  {
    text: "This answer went on while the page reloaded, and the console picked it up again.",
    chunks: 14,
    chunkDelayMs: 200,
    usage: { input: 560, output: 19 },
  },
];

describe.runIf(enabled)("the lash console in Chromium", () => {
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
  let server: ConsoleServer;
  let seeded: SeededSessions;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    directory = await temporaryDirectory();
    const database = join(directory.path, "lash.db");
    seeded = await seedSessions(database);
    server = await startConsoleServer(directory.path, database, SERVER_STEPS);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      // A refused inline script or style would show here as a content security policy violation.
      if (message.type() === "error") pageErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await directory?.remove();
  });

  const sessionUrl = (): string => `${server.url}/#/sessions/${seeded.branchedSessionId}`;
  // The README's screenshots are rewritten only when asked (LASH_UPDATE_SCREENSHOTS=1): a test run
  // leaves the checkout as it found it. Either way the page is rendered to an image.
  const shoot = async (name: string): Promise<void> => {
    const image = await page.screenshot(updateScreenshots ? { path: join(screenshots, `${name}.png`) } : {});
    expect(image.byteLength).toBeGreaterThan(0);
  };

  it("lists the sessions with their model, turns, tokens and cost, and searches them by title", async () => {
    const response = await page.goto(`${server.url}/`);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    const row = page.locator(`tr[data-session="${seeded.branchedSessionId}"]`);
    await row.waitFor();
    await expect.poll(() => row.locator("td.cost").textContent()).toBe("unpriced");
    const cells = await row.locator("td").allTextContents();
    expect(cells[0]).toContain(seeded.title);
    expect(cells[1]).toBe("scripted-model");
    expect(cells[2]).toBe("3");
    // The child session is its parent's, not a root of the list.
    expect(await page.locator(`tr[data-session="${seeded.childSessionId}"]`).count()).toBe(0);
    await shoot("sessions");

    await page.getByLabel("Search sessions by title or id").fill("no such title");
    await expect.poll(() => page.locator("tbody tr").count()).toBe(0);
    await page.getByLabel("Search sessions by title or id").fill("ASKED TWICE");
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
  });

  it("opens a session: the active branch's transcript, the tool call, the subagent's session; markup shows as text and runs nothing", async () => {
    await page.goto(sessionUrl());
    const transcript = page.locator(".transcript");
    await transcript.getByText("Order 9 was cancelled on 1 March.").waitFor();
    expect(await page.locator("h1").textContent()).toBe(seeded.title);
    expect(await transcript.getByText("Order 8 is still being packed.").count()).toBe(0);
    expect(await page.getByRole("link", { name: "Draft a note for order 8" }).count()).toBe(1);
    expect(await page.locator(".branch-list li").count()).toBe(2);

    // The tool call, collapsed, opens with its arguments and its result.
    await page.locator(".tool-call summary").first().click();
    await expect.poll(() => page.locator(".tool-call pre.output").first().textContent()).toContain(XSS_TOOL_OUTPUT);
    // The model's markup is text too; its Markdown is rendered.
    expect(await transcript.locator("strong", { hasText: "shipped" }).count()).toBe(1);
    expect(await transcript.getByText("<script>window.__xss=3</script>", { exact: false }).count()).toBe(1);
    expect(await transcript.locator("img:not(.attachment-image), script, b").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();

    // The question's image: fetched from the API into a blob URL, and decoded.
    const image = transcript.locator("img.attachment-image");
    expect(await image.count()).toBe(1);
    await expect.poll(() => image.evaluate((element) => (element as HTMLImageElement).naturalWidth)).toBe(160);
    expect(await image.getAttribute("src")).toMatch(/^blob:/);
    expect(await image.getAttribute("alt")).toBe("receipt.png");
    expect(await transcript.locator("figure.image figcaption").first().textContent()).toContain("image/png");
    await shoot("session");
  });

  it("shows the other branch read-only", async () => {
    await page.getByRole("link", { name: "branch 1" }).click();
    const transcript = page.locator(".transcript");
    await transcript.getByText("Order 8 is still being packed.").waitFor();
    expect(await transcript.getByText("Order 9 was cancelled on 1 March.").count()).toBe(0);
    expect(await page.locator(".read-only").isVisible()).toBe(true);
    expect(await page.locator(".live-turn").isVisible()).toBe(false);
    await shoot("branch");
    await page.getByRole("link", { name: "Back to the active branch" }).click();
    await transcript.getByText("Order 9 was cancelled on 1 March.").waitFor();
  });

  it("runs a turn and watches it stream in, then shows its usage and its trace waterfall", async () => {
    await page.getByLabel("Prompt").first().fill("Stream something");
    await page.getByRole("button", { name: "Run turn" }).click();
    const live = page.locator(".live-text");
    // Part of the answer first, then all of it.
    await expect.poll(async () => (await live.textContent())?.length ?? 0).toBeGreaterThan(0);
    const partial = (await live.textContent()) ?? "";
    expect(partial.length).toBeLessThan(SERVER_STEPS[0]?.text.length ?? 0);
    await shoot("live-turn");
    await page.locator('.live-ended[data-ended="finished"]').waitFor();
    expect(await live.textContent()).toBe(SERVER_STEPS[0]?.text);
    await page
      .locator(".transcript")
      .getByText(SERVER_STEPS[0]?.text ?? "")
      .waitFor();

    const waterfall = page.locator(".waterfall");
    await waterfall.waitFor();
    expect(await waterfall.locator(".waterfall-row.model").count()).toBe(1);
    expect(await waterfall.locator(".waterfall-row.commit").count()).toBeGreaterThan(0);
    expect(await waterfall.locator(".waterfall-row.model .ttft").count()).toBe(1);
    expect(await waterfall.locator(".waterfall-row.model").textContent()).toContain("first token");
    const usageTotal = await page.locator(".usage-section tfoot td").nth(4).textContent();
    expect(usageTotal).toBe((320 + 18 + 410 + 22 + 450 + 9 + 470 + 11 + 520 + 24).toLocaleString("en-US"));
    await page.locator(".trace-section").scrollIntoViewIfNeeded();
    await shoot("trace");
  });

  it("stops a running turn with the Stop button; the transcript marks it stopped", async () => {
    await page.getByLabel("Prompt").first().fill("Say a lot");
    await page.getByRole("button", { name: "Run turn" }).click();
    await expect.poll(async () => (await page.locator(".live-text").textContent())?.length ?? 0).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Stop" }).click();
    await page.locator('.live-ended[data-ended="stopped: cancelled"]').waitFor();
    await page.locator(".transcript .stopped", { hasText: "cancelled" }).waitFor();
    await page.locator(".transcript .stopped").scrollIntoViewIfNeeded();
    await shoot("stopped");
  });

  it("reattaches to a running turn after a reload and follows it to its end", async () => {
    await page.getByLabel("Prompt").first().fill("Keep going while I reload");
    await page.getByRole("button", { name: "Run turn" }).click();
    await expect.poll(async () => (await page.locator(".live-text").textContent())?.length ?? 0).toBeGreaterThan(0);
    await page.reload();
    await page.locator(".live-status", { hasText: "reattached" }).or(page.locator('.live-ended[data-ended="finished"]')).first().waitFor();
    await page.locator('.live-ended[data-ended="finished"]').waitFor();
    // The text seen before the reload and the rest after it, once each.
    expect(await page.locator(".live-text").textContent()).toBe(SERVER_STEPS[2]?.text);
  });

  it("shows the tenant's usage by source and model with a chart of tokens per day", async () => {
    await page.goto(`${server.url}/#/usage`);
    const table = page.locator("table.usage-table");
    await table.waitFor();
    const rows = await table.locator("tbody tr").allTextContents();
    expect(rows.some((row) => row.includes("turn") && row.includes("scripted-model"))).toBe(true);
    expect(await page.locator("svg.chart rect.bar").count()).toBe(30);
    expect(await page.locator(".breakdown").count()).toBe(2);
    await shoot("usage");
  });

  it("lists background tasks", async () => {
    await page.goto(`${server.url}/#/tasks?state=all`);
    await page.getByText("No background tasks.").waitFor();
    await shoot("tasks");
  });

  it("deletes a session only after the confirmation", async () => {
    const created = (await (
      await fetch(`${server.url}/v1/sessions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
    ).json()) as { id: string };
    await page.goto(`${server.url}/#/sessions`);
    const row = page.locator(`tr[data-session="${created.id}"]`);
    await row.waitFor();
    await row.getByRole("button", { name: /Delete/ }).click();
    await page.getByRole("button", { name: "Cancel" }).click();
    expect((await fetch(`${server.url}/v1/sessions/${created.id}`)).status).toBe(200);
    await row.getByRole("button", { name: /Delete/ }).click();
    await page.locator("dialog").getByRole("button", { name: "Delete" }).click();
    await row.waitFor({ state: "detached" });
    expect((await fetch(`${server.url}/v1/sessions/${created.id}`)).status).toBe(404);
  });

  it("leaves a session whose image is still on its way without an error: the late image is not shown from a freed URL", async () => {
    const before = pageErrors.length;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let requested = false;
    // The image's answer is held until the page has moved on to the list (a slow network, or a busy server).
    await page.route("**/attachments/**", async (route) => {
      requested = true;
      await held;
      await route.continue();
    });
    try {
      await page.goto(sessionUrl());
      await page.locator(".transcript").waitFor();
      await expect.poll(() => requested).toBe(true);
      const answered = page.waitForResponse("**/attachments/**");
      await page.goto(`${server.url}/#/sessions`);
      await page.locator("tbody tr").first().waitFor();
      release();
      await answered;
      // Time for the answer's blob URL to be made and freed, and for an image given it to fail.
      await page.waitForTimeout(500);
    } finally {
      release();
      await page.unroute("**/attachments/**");
    }
    expect(pageErrors.slice(before)).toEqual([]);
  });

  it("is keyboard usable, switches to the dark theme, and fits a phone's width", async () => {
    await page.goto(sessionUrl());
    // A fresh load: the focus starts at the top of the document.
    await page.reload();
    await page.locator(".transcript").waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to the content");
    await page.getByRole("button", { name: "Dark theme" }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await shoot("session-dark");
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${server.url}/#/sessions`);
    await page.locator("tbody tr").first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shoot("sessions-phone");
    expect(pageErrors).toEqual([]);
  });
});
