// Ask: a question over one database or the whole catalogue; the SQL (highlighted, copyable), the rows, the
// linked sub-schema as a picture, value hints, repairs, per-stage timings, and a clear refusal.

import { all, api, dbPath } from "./api.js";
import { clear, h, table } from "./dom.js";
import { linkGraph } from "./graph.js";
import { showError } from "./notice.js";
import { sqlBlock } from "./sql.js";

const CATALOGUE = "";

export async function askPage(view, _params, query) {
  const databases = await all("/databases");
  const chosen = query.get("db") ?? (databases.length === 1 ? databases[0].name : CATALOGUE);
  const select = h(
    "select",
    { id: "ask-db" },
    h("option", { value: CATALOGUE }, "The whole catalogue (routed)"),
    databases.map((db) => h("option", { value: db.name, selected: db.name === chosen }, db.name)),
  );
  const question = h("textarea", { id: "ask-question", rows: 2, required: true, maxlength: 2000 });
  const evidence = h("input", { id: "ask-evidence", autocomplete: "off", maxlength: 4000 });
  const button = h("button", { type: "submit", class: "primary", id: "ask-submit" }, "Ask");
  const out = h("section", { id: "answer", "aria-live": "polite", "aria-busy": "false" });
  const form = h(
    "form",
    { class: "card", id: "ask-form" },
    h("label", { for: "ask-db" }, "Ask over"),
    select,
    h("label", { for: "ask-question" }, "Question"),
    question,
    h("label", { for: "ask-evidence" }, "Evidence or hint (optional)"),
    evidence,
    h("div", { class: "actions" }, button),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const started = performance.now();
    button.disabled = true;
    out.setAttribute("aria-busy", "true");
    const waiting = h("p", { class: "working" }, "Working: linking the schema and generating SQL…");
    clear(out).append(waiting);
    const tick = setInterval(() => (waiting.textContent = `Working: linking the schema and generating SQL… ${((performance.now() - started) / 1000).toFixed(0)} s`), 1000);
    try {
      const body = { question: question.value.trim(), evidence: evidence.value.trim() || null };
      const path = select.value === CATALOGUE ? "/ask" : `${dbPath(select.value)}/ask`;
      const { data } = await api("POST", path, { body });
      const askOver = (name) => {
        select.value = name;
        form.requestSubmit();
      };
      clear(out).append(answerView(data, select.value || data.database, askOver));
    } catch (error) {
      clear(out);
      showError(error);
    } finally {
      clearInterval(tick);
      button.disabled = false;
      out.setAttribute("aria-busy", "false");
    }
  });
  view.append(h("h1", {}, "Ask"), form, out);
}

// The candidate databases and why: each one's best tables with the columns that matched the question, and the
// values the question quotes or capitalises that it holds.
function routesView(routes, answered, askOver) {
  const rows = routes.map((route) => [
    h("strong", {}, route.database),
    Number(route.score).toFixed(2),
    [
      route.tables.map((t, i) => [i ? "; " : "", h("code", {}, t.table), ` (${t.columns.join(", ")})`]),
      route.values?.length ? h("div", { class: "muted route-values" }, route.values.join("; ")) : "",
      route.lacks ? h("div", { class: "muted route-lacks" }, route.lacks) : "",
    ],
    route.database === answered
      ? h("span", { class: "muted" }, "answered here")
      : h("button", { type: "button", class: "ask-over", "data-database": route.database, onclick: () => askOver(route.database) }, `Ask over ${route.database}`),
  ]);
  return table(["Database", "Coverage", "Why: its best tables", "Answer"], rows, { class: "grid compact routes" });
}

function answerView(result, db, askOver) {
  const box = h("div", { class: "answer" });
  if (result.routes) {
    const decided = result.routes[0]?.decided;
    box.append(
      h(
        "div",
        { class: "routing" },
        h("p", { class: "routed" }, "Routed to ", h("strong", {}, result.database), decided ? ": it clearly fits best." : "."),
        !decided && h("p", { class: "undecided", role: "note" }, "Several databases fit this question about as well: check the candidates, or ask again over the one you mean."),
        routesView(result.routes, result.database, askOver),
      ),
    );
  }
  if (result.refused) {
    box.append(h("div", { class: "refused", role: "alert" }, h("strong", {}, "The SQL was refused and not run. "), result.refused));
  } else if (result.error) {
    box.append(h("div", { class: "failed", role: "alert" }, h("strong", {}, "No answer: "), result.error));
  }
  if (result.sql) box.append(h("h2", {}, "SQL"), sqlBlock(result.sql));
  if (result.exported_sql) box.append(h("h3", {}, `As ${result.exported_dialect} (not run)`), sqlBlock(result.exported_sql, `${result.exported_dialect} SQL`));
  if (result.columns && result.rows) {
    box.append(
      h("h2", {}, `Rows (${result.rows.length}${result.truncated ? ", truncated" : ""})`),
      h("div", { class: "scroll" }, table(result.columns, result.rows.map((row) => row.map((v) => (v === null ? h("span", { class: "muted" }, "NULL") : String(v)))), { class: "grid", id: "rows" })),
    );
  }
  if (result.linked_tables.length) {
    box.append(
      h("h2", {}, "Linked sub-schema"),
      h("div", { class: "scroll graph" }, linkGraph({ tables: result.linked_tables, columns: result.linked_columns, paths: result.join_paths })),
    );
    if (result.join_conditions.length) box.append(h("p", {}, "Joins: ", result.join_conditions.map((j, i) => [i ? "; " : "", h("code", {}, j)])));
  }
  const details = [];
  if (result.evidence) details.push(["Evidence", `${result.evidence} (${result.evidence_source})`]);
  // A large schema: the subject areas linking focused on, best first, and why (coverage, best tables).
  if (result.subject_areas.length) {
    details.push(["Subject areas", h("ol", { class: "areas" }, result.subject_areas.map((a) => h("li", {}, h("code", {}, a.name), ` coverage ${a.coverage.toFixed(2)}: `, a.tables.join(", "))))]);
  }
  if (result.value_hints.length) details.push(["Value hints", h("ul", {}, result.value_hints.map((v) => h("li", {}, v)))]);
  if (result.repairs.length) details.push(["Repairs", h("ul", {}, result.repairs.map((v) => h("li", {}, v)))]);
  details.push(["Model", `${result.model}${result.mode ? `, ${result.mode} mode` : ""}, ${result.retries} retr${result.retries === 1 ? "y" : "ies"}`]);
  box.append(h("h2", {}, "How it was made"), h("dl", { class: "facts" }, details.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
  const timings = Object.entries(result.timings_s || {});
  if (timings.length) {
    box.append(h("h3", {}, "Timings"), table(["Stage", "Seconds"], timings.map(([stage, seconds]) => [stage, seconds.toFixed(3)]), { class: "grid compact timings" }));
  }
  box.dataset.database = db;
  return box;
}
