// Browsing the catalogue (databases → tables → columns) and curating it: inline edits with If-Match,
// a merge view when someone else saved first (412), and each field's history.

import { ApiError, all, api, dbPath, get, session } from "./api.js";
import { badge, clear, fmtNumber, fmtPercent, fmtTime, h, splitRef, table } from "./dom.js";
import { notify, showError } from "./notice.js";

const dbHref = (db) => `#/db/${encodeURIComponent(db)}`;
const tableHref = (db, t) => `${dbHref(db)}/t/${encodeURIComponent(t)}`;
const columnHref = (db, t, c) => `${tableHref(db, t)}/c/${encodeURIComponent(c)}`;

function crumbs(...parts) {
  const items = [["#/", "Catalogue"], ...parts];
  return h(
    "nav",
    { "aria-label": "Breadcrumb", class: "crumbs" },
    h("ol", {}, items.map(([href, label], i) => h("li", {}, i === items.length - 1 ? h("span", { "aria-current": "page" }, label) : h("a", { href }, label)))),
  );
}

export async function databasesPage(view) {
  const databases = await all("/databases");
  view.append(h("h1", {}, "Databases"));
  if (!databases.length) {
    view.append(h("p", {}, "No database is registered yet. ", session.can("admin") ? h("a", { href: "#/jobs" }, "Register one on the Jobs page.") : "Ask an administrator to register one."));
    return;
  }
  view.append(
    table(
      ["Database", "Dialect", "Tables", "Connection (masked)", "Last ingested", "Description"],
      databases.map((db) => [h("a", { href: dbHref(db.name) }, db.name), db.dialect, fmtNumber(db.table_count), h("code", {}, db.url), fmtTime(db.last_ingested_at), db.description || ""]),
      { class: "grid", id: "databases" },
    ),
  );
}

export async function databasePage(view, [db]) {
  const [info, tables] = await Promise.all([get(dbPath(db)), all(`${dbPath(db)}/tables`)]);
  view.append(crumbs([dbHref(db), db]), h("h1", {}, db), h("p", { class: "meta" }, `${info.dialect} · ${fmtNumber(tables.length)} tables · `, h("code", {}, info.url)));
  if (info.description) view.append(h("p", {}, info.description));
  view.append(
    table(
      ["Table", "Columns", "Rows (est.)", "Description"],
      tables.map((t) => [h("a", { href: tableHref(db, t.name) }, t.name), fmtNumber(t.column_count), fmtNumber(t.row_estimate), describe(t.description, t.description_source)]),
      { class: "grid", id: "tables" },
    ),
  );
}

function describe(text, source) {
  return text ? h("span", {}, text, " ", badge(source)) : h("span", { class: "muted" }, "—");
}

function keysCell(column) {
  const marks = [];
  if (column.is_pk) marks.push(h("abbr", { class: "key pk", title: "primary key" }, "PK"));
  for (const ref of column.references || []) {
    const [t, c] = splitRef(ref);
    marks.push(h("a", { class: "key fk", href: columnHref(column.database, t, c), title: `foreign key to ${ref}` }, `FK → ${ref}`));
  }
  return marks.length ? marks : "";
}

function valuesCell(column) {
  const values = column.top_values.length ? column.top_values : column.examples;
  return values.length ? h("span", { class: "values" }, values.slice(0, 3).join(", ")) : "";
}

export async function tablePage(view, [db, name]) {
  const tableUrl = dbPath(db, name);
  const [{ data: info, etag }, columns] = await Promise.all([api("GET", tableUrl), all(`${tableUrl}/columns`)]);
  view.append(crumbs([dbHref(db), db], [tableHref(db, name), name]), h("h1", {}, name));
  view.append(h("p", { class: "meta" }, `${fmtNumber(columns.length)} columns · ${fmtNumber(info.row_estimate)} rows (est.)`, info.comment ? ` · comment: ${info.comment}` : ""));
  const state = { etag, entity: info };
  view.append(editableField({ url: tableUrl, state, field: "description", label: "Description" }));
  view.append(h("h2", {}, "Columns"));
  view.append(
    table(
      ["Column", "Type", "Keys", "Description", "Distinct", "Nulls", "Top values"],
      columns.map((c) => [
        h("a", { href: columnHref(db, name, c.name) }, c.name),
        h("code", {}, c.data_type),
        keysCell(c),
        describe(c.description, c.description_source),
        fmtNumber(c.distinct_estimate),
        fmtPercent(c.null_fraction),
        valuesCell(c),
      ]),
      { class: "grid", id: "columns" },
    ),
  );
}

export async function columnPage(view, [db, tableName, name]) {
  const url = dbPath(db, tableName, name);
  const { data: info, etag } = await api("GET", url);
  const state = { etag, entity: info };
  view.append(crumbs([dbHref(db), db], [tableHref(db, tableName), tableName], [columnHref(db, tableName, name), name]), h("h1", {}, `${tableName}.${name}`));
  const facts = [
    ["Type", h("code", {}, info.data_type)],
    ["Nullable", info.nullable ? "yes" : "no"],
    ["Keys", keysCell(info) || "—"],
    ["Distinct (est.)", fmtNumber(info.distinct_estimate)],
    ["Null fraction", fmtPercent(info.null_fraction)],
    ["Top values", info.top_values.join(", ") || "—"],
    ["Examples", info.examples.join(", ") || "—"],
    ["Used by logged queries", fmtNumber(info.usage_count)],
    ["Source comment", info.comment || "—"],
    ["Status", info.status],
  ];
  view.append(h("dl", { class: "facts" }, facts.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)])));
  view.append(editableField({ url, state, field: "description", label: "Description" }));
  view.append(editableField({ url, state, field: "value_explanation", label: "Value explanation" }));
  view.append(editableField({ url, state, field: "synonyms", label: "Synonyms", list: true }));
}

const show = (value, list) => (list ? (value || []).join(", ") : value || "");
const parse = (text, list) => (list ? text.split(",").map((s) => s.trim()).filter(Boolean) : text.trim() || null);

/**
 * One curated field: its value and provenance, an Edit button for stewards (PATCH with If-Match), a merge view
 * on 412 (the other person's value, yours, and a merged text to save), and its history one click away.
 * ``state`` ({etag, entity}) is shared by the fields of one table or column, whose ETag they all use.
 */
function editableField({ url, state, field, label, list = false }) {
  const id = `field-${field}`;
  const box = h("section", { class: "field", id, "aria-labelledby": `${id}-label` });
  const historyBox = h("div", { class: "history", id: `${id}-history`, hidden: true });
  let historyOpen = false;

  const render = () => {
    clear(box);
    const value = state.entity[field];
    const source = state.entity[`${field}_source`];
    const empty = list ? !(value || []).length : !value;
    box.append(
      h("h2", { id: `${id}-label`, class: "field-label" }, label, " ", empty ? null : badge(source)),
      h("p", { class: `value${empty ? " muted" : ""}`, "data-field": field }, empty ? "(none)" : show(value, list)),
    );
    const actions = h("div", { class: "actions" });
    if (session.can("steward")) actions.append(h("button", { type: "button", onclick: () => edit(show(value, list)) }, `Edit ${label.toLowerCase()}`));
    actions.append(h("button", { type: "button", class: "secondary", "aria-expanded": String(historyOpen), "aria-controls": `${id}-history`, onclick: toggleHistory }, "History"));
    box.append(actions, historyBox);
  };

  const editor = (initial) => {
    const input = list
      ? h("input", { id: `${id}-input`, type: "text", value: initial, "aria-describedby": `${id}-hint` })
      : h("textarea", { id: `${id}-input`, rows: 3 });
    if (!list) input.value = initial;
    return input;
  };

  const edit = (initial) => {
    clear(box);
    const input = editor(initial);
    const form = h(
      "form",
      { class: "edit" },
      h("label", { for: `${id}-input`, id: `${id}-label` }, label),
      input,
      list ? h("p", { id: `${id}-hint`, class: "hint" }, "Separate synonyms with commas.") : null,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save"), h("button", { type: "button", class: "secondary", onclick: render }, "Cancel")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save(parse(input.value, list), state.etag);
    });
    box.append(form);
    input.focus();
  };

  const save = async (value, etag) => {
    try {
      const { data, etag: next } = await api("PATCH", url, { body: { [field]: value }, ifMatch: etag });
      state.entity = data;
      state.etag = next;
      notify(`${label} saved.`, "ok");
      render();
      if (historyOpen) loadHistory();
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) return conflict(value);
      showError(error);
    }
  };

  // Someone saved first: show their value (and who), keep the steward's, and let them merge.
  const conflict = async (mine) => {
    let current;
    let last;
    try {
      current = await api("GET", url);
      last = (await get(`${url}/history`, { field })).at(-1); // oldest first
    } catch (error) {
      return showError(error);
    }
    state.entity = current.data;
    state.etag = current.etag;
    const theirs = current.data[field];
    clear(box);
    const merged = editor(show(mine, list));
    const form = h(
      "form",
      { class: "conflict", role: "group", "aria-labelledby": `${id}-conflict` },
      h("h2", { id: `${id}-conflict` }, `${label}: someone else saved a newer version`),
      h("p", {}, last ? `Changed by ${last.who} (${last.source}) at ${fmtTime(last.at)}.` : "It changed since you opened it."),
      h("div", { class: "versions" },
        h("div", {}, h("h3", {}, "Theirs (saved)"), h("p", { class: "theirs" }, show(theirs, list) || "(none)")),
        h("div", {}, h("h3", {}, "Yours (not saved)"), h("p", { class: "mine" }, show(mine, list) || "(none)")),
      ),
      h("label", { for: `${id}-input` }, "Merged text to save"),
      merged,
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary" }, "Save merged"),
        h("button", { type: "button", class: "secondary", onclick: () => (notify(`Kept their ${label.toLowerCase()}.`, "ok"), render()) }, "Keep theirs"),
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save(parse(merged.value, list), state.etag);
    });
    box.append(form);
    notify(`${label} was changed by someone else meanwhile: nothing was overwritten. Merge and save, or keep theirs.`, "warn");
    merged.focus();
  };

  const loadHistory = async () => {
    clear(historyBox).append(h("p", {}, "Loading…"));
    try {
      const revisions = (await get(`${url}/history`, { field })).reverse(); // newest first
      clear(historyBox).append(
        revisions.length
          ? table(
              ["When", "Who", "Source", "Old", "New"],
              revisions.map((r) => [fmtTime(r.at), r.who, badge(r.source), h("del", {}, show(r.old, list) || "(none)"), h("ins", {}, show(r.new, list) || "(none)")]),
              { class: "grid compact" },
            )
          : h("p", { class: "muted" }, "No edits yet."),
      );
    } catch (error) {
      showError(error);
    }
  };

  const toggleHistory = (event) => {
    historyOpen = !historyOpen;
    historyBox.hidden = !historyOpen;
    event.currentTarget.setAttribute("aria-expanded", String(historyOpen));
    if (historyOpen) loadHistory();
  };

  render();
  return box;
}
