// Building DOM from data: every text goes in as a text node, never as HTML (catalogue text is untrusted).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) el.setAttribute(name, String(value));
  }
  return append(el, children);
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** A provenance badge (`ingested`, `llm`, `steward`, `dbt`, …): the class follows the source's name. */
export function badge(source) {
  if (!source) return null;
  const name = String(source);
  return h("span", { class: `badge src-${name.replace(/[^a-z0-9]/gi, "")}`, title: `source: ${name}` }, name);
}

export function fmtNumber(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en");
}

export function fmtPercent(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(value < 0.01 && value > 0 ? 2 : 1)}%`;
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

/** A table from column labels and rows of cells (nodes or text). */
export function table(labels, rows, attrs = {}) {
  const head = h("thead", {}, h("tr", {}, labels.map((label) => h("th", { scope: "col" }, label))));
  const body = h("tbody");
  const fragment = document.createDocumentFragment();
  for (const row of rows) fragment.append(h("tr", {}, row.map((cell) => h("td", {}, cell))));
  body.append(fragment);
  return h("table", attrs, head, body);
}

/** Splits a column reference ``table.column`` at its first unescaped dot (the table part escapes `.` and `\`). */
export function splitRef(ref) {
  let table = "";
  for (let i = 0; i < ref.length; i++) {
    const ch = ref[i];
    if (ch === "\\" && i + 1 < ref.length) {
      table += ref[++i];
    } else if (ch === ".") {
      return [table, ref.slice(i + 1)];
    } else {
      table += ch;
    }
  }
  return [table, ""];
}
