// The page's alert line: errors from the API in the service's own words, and short confirmations.

import { ApiError, session } from "./api.js";
import { clear, h } from "./dom.js";

export function notify(message, kind = "error") {
  const notice = clear(document.getElementById("notice"));
  notice.className = "notice";
  if (!message) return;
  notice.className = `notice ${kind}`;
  notice.append(h("span", {}, message), " ", h("button", { type: "button", class: "link", onclick: () => notify("") }, "Dismiss"));
}

export function showError(error) {
  if (error instanceof ApiError && error.status === 401) {
    session.signOut(); // the key was deleted or is wrong: back to sign-in
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  }
  notify(error instanceof ApiError ? `${error.message} (${error.status || "network"})` : String(error));
}
