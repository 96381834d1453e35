// A small SQL highlighter: tokens become spans with a class (keyword, string, number, comment, identifier).

import { h } from "./dom.js";

const KEYWORDS = new Set(
  `select from where and or not in is null like between join inner left right full outer cross on using group by
  order having limit offset as distinct union all intersect except case when then else end asc desc with exists
  count sum avg min max cast coalesce over partition filter true false`.split(/\s+/),
);
const TOKEN = /(--[^\n]*|\/\*[\s\S]*?\*\/)|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?|`[^`]*`?|\[[^\]]*\]?)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_$]*)|(\s+|.)/g;

export function highlight(sql) {
  const code = h("code", { class: "sql" });
  let plain = "";
  const flush = () => {
    if (plain) code.append(plain);
    plain = "";
  };
  for (const [text, comment, string, quoted, number, word] of sql.matchAll(TOKEN)) {
    let cls = null;
    if (comment) cls = "tok-comment";
    else if (string) cls = "tok-string";
    else if (quoted) cls = "tok-ident";
    else if (number) cls = "tok-number";
    else if (word && KEYWORDS.has(word.toLowerCase())) cls = "tok-keyword";
    if (cls) {
      flush();
      code.append(h("span", { class: cls }, text));
    } else {
      plain += text;
    }
  }
  flush();
  return code;
}

/** A highlighted SQL block with a Copy button (clipboard API, or a selection to copy by hand). */
export function sqlBlock(sql, label = "SQL") {
  const pre = h("pre", { class: "sql-block", tabindex: "0", "aria-label": label }, highlight(sql));
  const status = h("span", { class: "copy-status", role: "status" });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(sql);
      status.textContent = "Copied.";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(pre);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      status.textContent = "Selected: press Ctrl+C to copy.";
    }
  };
  return h("div", { class: "sql-wrap" }, pre, h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: copy }, `Copy ${label}`), status));
}
