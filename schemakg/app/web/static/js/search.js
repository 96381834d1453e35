// Catalogue search in the header: a combobox over GET /search, driven by the keyboard
// (↓/↑ move, Enter opens, Escape closes; "/" anywhere focuses the box).

import { get } from "./api.js";
import { clear, h } from "./dom.js";

export function hitHref(hit) {
  const base = `#/db/${encodeURIComponent(hit.database)}/t/${encodeURIComponent(hit.table)}`;
  return hit.column ? `${base}/c/${encodeURIComponent(hit.column)}` : base;
}

export function installSearch(container) {
  const input = h("input", {
    id: "search-input",
    type: "search",
    role: "combobox",
    "aria-expanded": "false",
    "aria-controls": "search-results",
    "aria-autocomplete": "list",
    autocomplete: "off",
    placeholder: "Search tables and columns  ( / )",
  });
  const list = h("ul", { id: "search-results", role: "listbox", "aria-label": "Search results", hidden: true });
  container.append(h("label", { for: "search-input", class: "visually-hidden" }, "Search the catalogue"), input, list);

  let hits = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    const options = list.querySelectorAll("[role=option]");
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }
  };
  const open = (hit) => {
    close();
    input.value = "";
    location.hash = hitHref(hit);
  };
  const render = () => {
    clear(list);
    if (!hits.length) {
      list.append(h("li", { class: "empty", role: "presentation" }, "No match"));
    }
    hits.forEach((hit, i) => {
      const name = hit.column ? `${hit.table}.${hit.column}` : hit.table;
      list.append(
        h(
          "li",
          { id: `search-hit-${i}`, role: "option", "aria-selected": "false", onmousedown: (e) => (e.preventDefault(), open(hit)) },
          h("span", { class: "kind" }, hit.kind),
          h("span", { class: "name" }, name),
          h("span", { class: "db" }, hit.database),
          hit.description ? h("span", { class: "desc" }, hit.description) : null,
        ),
      );
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(hits.length ? 0 : -1);
  };
  const search = async () => {
    const q = input.value.trim();
    if (!q) return close();
    const mine = ++asked;
    try {
      const found = await get("/search", { q, limit: 12 });
      if (mine !== asked) return;
      hits = found;
      render();
    } catch {
      close();
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && hits.length) {
      event.preventDefault();
      if (list.hidden) render();
      else highlight((active + 1) % hits.length);
    } else if (event.key === "ArrowUp" && hits.length) {
      event.preventDefault();
      highlight((active - 1 + hits.length) % hits.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (!list.hidden && active >= 0 && hits[active]) open(hits[active]);
      else search();
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || "");
    if (event.key === "/" && !typing && !container.hidden) {
      event.preventDefault();
      input.focus();
    }
  });
}
