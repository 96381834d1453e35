// The shell: sign-in, navigation by role, hash routes, the notice line and catalogue search.

import { ApiError, api, session } from "./api.js";
import { askPage } from "./ask.js";
import { columnPage, databasePage, databasesPage, tablePage } from "./browse.js";
import { clear, h } from "./dom.js";
import { jobsPage } from "./jobs.js";
import { notify, showError } from "./notice.js";
import { proposalsPage } from "./proposals.js";
import { installSearch } from "./search.js";

const main = document.getElementById("main");

const ROUTES = [
  [/^\/?$/, () => databasesPage],
  [/^\/db\/([^/]+)$/, () => databasePage],
  [/^\/db\/([^/]+)\/t\/([^/]+)$/, () => tablePage],
  [/^\/db\/([^/]+)\/t\/([^/]+)\/c\/([^/]+)$/, () => columnPage],
  [/^\/ask$/, () => askPage],
  [/^\/proposals$/, () => proposalsPage, "steward"],
  [/^\/jobs$/, () => jobsPage],
];

function signInPage(message) {
  document.getElementById("search").hidden = true;
  clear(document.getElementById("nav"));
  clear(document.getElementById("who"));
  const input = h("input", { id: "api-key", name: "api-key", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const error = h("p", { class: "error", id: "sign-in-error", role: "alert" }, message || "");
  const form = h(
    "form",
    { class: "card narrow", method: "post", "aria-describedby": "sign-in-help" },
    h("h1", { tabindex: "-1" }, "Sign in"),
    h("p", { id: "sign-in-help" }, "Paste your SchemaKG API key. It stays in this browser tab's session storage and is sent only as a request header."),
    h("label", { for: "api-key" }, "API key"),
    input,
    error,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    session.signIn(input.value.trim());
    if (await loadPrincipal(error)) route();
  });
  clear(main).append(form);
  main.dataset.view = "sign-in";
  main.setAttribute("aria-busy", "false");
  input.focus();
}

async function loadPrincipal(errorLine) {
  try {
    session.remember((await api("GET", "/whoami")).data);
    return true;
  } catch (error) {
    session.signOut();
    const text = error instanceof ApiError && error.status === 401 ? "That key was not accepted." : `Could not sign in: ${error.message}`;
    if (errorLine) errorLine.textContent = text;
    else signInPage(text);
    return false;
  }
}

function renderShell() {
  const nav = clear(document.getElementById("nav"));
  const here = location.hash.replace(/^#/, "") || "/";
  const links = [["#/", "Browse"], ["#/ask", "Ask"]];
  if (session.can("steward")) links.push(["#/proposals", "Proposals"]);
  links.push(["#/jobs", "Jobs"]);
  for (const [href, label] of links) {
    const current = href === "#/" ? !/^\/(ask|proposals|jobs)/.test(here) : here.startsWith(href.slice(1));
    nav.append(h("a", { href, "aria-current": current ? "page" : null }, label));
  }
  const who = clear(document.getElementById("who"));
  const principal = session.principal;
  who.append(
    h("span", { class: "principal" }, principal.name, " ", h("span", { class: `role role-${principal.role}` }, principal.role)),
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
  );
  document.getElementById("search").hidden = false;
}

function signOut() {
  session.signOut();
  notify("");
  signInPage("Signed out.");
}

let generation = 0;

/** Renders the page the hash names; a later navigation wins over a slower earlier one. */
export async function route() {
  if (!session.key()) return signInPage();
  if (!session.principal && !(await loadPrincipal())) return;
  renderShell();
  const path = location.hash.replace(/^#/, "").split("?")[0] || "/";
  const query = new URLSearchParams(location.hash.split("?")[1] || "");
  const mine = ++generation;
  main.setAttribute("aria-busy", "true");
  for (const [pattern, page, role] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    if (role && !session.can(role)) break;
    const params = match.slice(1).map(decodeURIComponent);
    const view = h("div", { class: "view" });
    try {
      await page()(view, params, query);
    } catch (error) {
      showError(error);
      view.append(h("p", { class: "error" }, "This page could not be loaded."));
    }
    if (mine !== generation) return;
    clear(main).append(view);
    main.dataset.view = page().name;
    main.setAttribute("aria-busy", "false");
    performance.mark(`schemakg:rendered:${page().name}`);
    const heading = main.querySelector("h1");
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
    return;
  }
  clear(main).append(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the catalogue")));
  main.dataset.view = "not-found";
  main.setAttribute("aria-busy", "false");
}

window.addEventListener("hashchange", () => {
  notify("");
  route();
});
installSearch(document.getElementById("search"));
route();
