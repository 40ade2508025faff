import "./styles.css";
import { apiKey, setApiKey, whenUnauthorized } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import type { Page } from "./pages/page.js";
import { sessionPage } from "./pages/session-page.js";
import { sessionsPage } from "./pages/sessions-page.js";
import { tasksPage } from "./pages/tasks-page.js";
import { usagePage } from "./pages/usage-page.js";

const THEME_STORAGE = "lash.console.theme";
type Theme = "light" | "dark";

function preferredTheme(): Theme {
  const stored = localStorage.getItem(THEME_STORAGE);
  if (stored === "light" || stored === "dark") return stored;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function applyTheme(theme: Theme, button: HTMLButtonElement): void {
  document.documentElement.dataset.theme = theme;
  button.textContent = theme === "dark" ? "Light theme" : "Dark theme";
  button.setAttribute("aria-pressed", String(theme === "dark"));
}

const main = h("main", { id: "main", tabindex: -1 });
const themeButton = h("button", { type: "button", class: "theme-toggle" });
applyTheme(preferredTheme(), themeButton);
themeButton.addEventListener("click", () => {
  const next: Theme = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
  localStorage.setItem(THEME_STORAGE, next);
  applyTheme(next, themeButton);
});

/** The key form: shown when the server asks for a key (401), and from the header's Key button. */
function keyForm(): HTMLElement {
  const input = h("input", { type: "password", id: "api-key", autocomplete: "off", placeholder: "lash_…", "aria-label": "API key" });
  return h(
    "form",
    {
      class: "key-form",
      onsubmit: (event: Event) => {
        event.preventDefault();
        setApiKey(input.value.trim());
        route();
      },
    },
    h("h1", {}, "API key"),
    h("p", {}, "This server requires an API key (lash-server keys create --tenant <name>). It is kept in this tab's session storage only."),
    h("label", { for: "api-key" }, "Key"),
    input,
    h(
      "div",
      { class: "prompt-actions" },
      h("button", { type: "submit", class: "primary" }, "Use this key"),
      apiKey() === undefined
        ? ""
        : h(
            "button",
            {
              type: "button",
              onclick: () => {
                setApiKey(undefined);
                route();
              },
            },
            "Forget the key",
          ),
    ),
  );
}

const routes: Readonly<Record<string, Page>> = { sessions: sessionsPage, usage: usagePage, tasks: tasksPage };
let leave: (() => void) | undefined;
let asking = false;

whenUnauthorized(() => {
  if (asking) return;
  asking = true;
  leave?.();
  leave = undefined;
  replaceChildren(main, keyForm());
});

function navLink(target: string, label: string, current: string): HTMLElement {
  return h("a", { href: `#/${target}`, "aria-current": current === target ? "page" : undefined }, label);
}

const nav = h("nav", { class: "main-nav", "aria-label": "Console" });

/** Draws the page the location's hash names: `#/sessions`, `#/sessions/{id}?branch=&trace=`, `#/usage`, `#/tasks`. */
function route(): void {
  asking = false;
  leave?.();
  const [pathText = "", queryText = ""] = window.location.hash.replace(/^#\/?/, "").split("?");
  const path = pathText.split("/").filter((segment) => segment !== "");
  const section = path[0] ?? "sessions";
  replaceChildren(nav, navLink("sessions", "Sessions", section), navLink("usage", "Usage", section), navLink("tasks", "Tasks", section));
  const page = section === "sessions" && path.length > 1 ? sessionPage : (routes[section] ?? sessionsPage);
  main.replaceChildren();
  leave = page(main, new URLSearchParams(queryText), path) ?? undefined;
}

const keyButton = h("button", { type: "button", onclick: () => replaceChildren(main, keyForm()) }, "Key");
document.getElementById("app")?.replaceWith(
  h(
    "div",
    { class: "shell" },
    // A button, not a `#main` link: the hash names the page.
    h("button", { type: "button", class: "skip-link", onclick: () => main.focus() }, "Skip to the content"),
    h(
      "header",
      { class: "top" },
      h("a", { href: "#/sessions", class: "brand" }, "lash console"),
      nav,
      h("div", { class: "top-actions" }, keyButton, themeButton),
    ),
    main,
  ),
);
window.addEventListener("hashchange", route);
route();
