// Jobs: register a database (admin), start ingestion, upload a query log, start knowledge completion (steward);
// every job with live progress and, when it ends, its result and per-line errors.

import { all, api, dbPath, session } from "./api.js";
import { clear, fmtTime, h, table } from "./dom.js";
import { notify, showError } from "./notice.js";

const FINISHED = new Set(["succeeded", "succeeded_with_errors", "failed"]);
const KINDS = {
  ingest_schema: "Schema ingestion",
  ingest_query_log: "Query-log upload",
  complete_knowledge: "Knowledge completion",
  activate_retriever: "Retriever activation",
  import_dbt: "dbt import",
};
const kindName = (kind) => KINDS[kind] || kind.replaceAll("_", " ");

export async function jobsPage(view) {
  const databases = await all("/databases");
  view.append(h("h1", {}, "Jobs"));
  const jobsBox = h("section", { id: "jobs", "aria-labelledby": "jobs-heading", "aria-live": "polite" });
  const refresh = () => loadJobs(jobsBox);

  if (session.can("admin")) view.append(registerForm());
  if (session.can("steward") && databases.length) view.append(actions(databases, refresh));
  view.append(h("h2", { id: "jobs-heading" }, "Recent jobs"), jobsBox);
  await loadJobs(jobsBox);
}

function registerForm() {
  const name = h("input", { id: "reg-name", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}", autocomplete: "off" });
  const url = h("input", { id: "reg-url", required: true, autocomplete: "off", spellcheck: "false", placeholder: "sqlite:////path/to/file.sqlite, postgresql://user:password@host/db" });
  const description = h("input", { id: "reg-description", autocomplete: "off" });
  const form = h(
    "form",
    { class: "card", id: "register", "aria-labelledby": "register-heading" },
    h("h2", { id: "register-heading" }, "Register a database"),
    h("div", { class: "row" },
      h("div", {}, h("label", { for: "reg-name" }, "Name"), name),
      h("div", { class: "grow" }, h("label", { for: "reg-url" }, "Connection URL"), url),
    ),
    h("label", { for: "reg-description" }, "Description (optional)"),
    description,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Register")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { data } = await api("POST", "/databases", { body: { name: name.value.trim(), url: url.value.trim(), description: description.value.trim() || null } });
      url.value = ""; // the secret leaves the page; the service shows it back masked
      window.dispatchEvent(new HashChangeEvent("hashchange")); // redraw with the new database
      notify(`Registered ${data.name}: ${data.url}`, "ok");
    } catch (error) {
      showError(error);
    }
  });
  return form;
}

function actions(databases, refresh) {
  const select = h("select", { id: "job-db" }, databases.map((db) => h("option", { value: db.name }, `${db.name} (${db.dialect})`)));
  const start = async (path, options) => {
    try {
      const { data } = await api("POST", path, options);
      notify(`Started: ${kindName(data.kind)} on ${data.database}.`, "ok");
      refresh();
    } catch (error) {
      showError(error);
    }
  };
  const file = h("input", { id: "log-file", type: "file", accept: ".jsonl,.ndjson,.json,.csv,text/csv,application/x-ndjson" });
  const format = h("select", { id: "log-format" }, h("option", { value: "jsonl" }, "JSON lines"), h("option", { value: "csv" }, "CSV"));
  const source = h("input", { id: "log-source", autocomplete: "off", placeholder: "the file's name" });
  file.addEventListener("change", () => {
    const picked = file.files[0];
    if (picked && /\.csv$/i.test(picked.name)) format.value = "csv";
  });
  const upload = h(
    "form",
    { class: "subcard", id: "upload-log" },
    h("h3", {}, "Upload a query log"),
    h("label", { for: "log-file" }, "Log file (one {question, sql} per line, or CSV)"),
    file,
    h("div", { class: "row" }, h("div", {}, h("label", { for: "log-format" }, "Format"), format), h("div", { class: "grow" }, h("label", { for: "log-source" }, "Source name"), source)),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Upload")),
  );
  upload.addEventListener("submit", (event) => {
    event.preventDefault();
    const picked = file.files[0];
    if (!picked) return notify("Choose a log file first.");
    const contentType = format.value === "csv" ? "text/csv" : "application/x-ndjson";
    start(`${dbPath(select.value)}/query-logs`, { raw: picked, contentType, query: { format: format.value, source: source.value.trim() || picked.name } });
  });
  const limit = h("input", { id: "kc-limit", type: "number", min: 1, max: 100000, placeholder: "all" });
  const onlyNew = h("input", { id: "kc-new", type: "checkbox", checked: true });
  const completion = h(
    "form",
    { class: "subcard", id: "completion" },
    h("h3", {}, "Knowledge completion"),
    h("p", { class: "hint" }, "The LLM reads logged questions and SQL and proposes descriptions and dependencies for review."),
    h("label", { for: "kc-limit" }, "At most this many logged examples"),
    limit,
    h("label", { class: "check" }, onlyNew, " Only examples not processed yet"),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Start knowledge completion")),
  );
  completion.addEventListener("submit", (event) => {
    event.preventDefault();
    start(`${dbPath(select.value)}/knowledge-completion`, { body: { limit: limit.value ? Number(limit.value) : null, only_new: onlyNew.checked } });
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "actions-heading" },
    h("h2", { id: "actions-heading" }, "Start a job"),
    h("label", { for: "job-db" }, "Database"),
    select,
    h("div", { class: "actions" }, h("button", { type: "button", id: "ingest", class: "primary", onclick: () => start(`${dbPath(select.value)}/ingest`) }, "Ingest schema and values")),
    h("div", { class: "columns2" }, upload, completion),
  );
}

let poll = null;

/** Lists recent jobs; polls every second while one is queued or running and this page is shown. */
async function loadJobs(box) {
  clearTimeout(poll);
  let jobs;
  try {
    jobs = (await api("GET", "/jobs", { query: { limit: 20 } })).data.items;
  } catch (error) {
    return showError(error);
  }
  clear(box);
  if (!jobs.length) box.append(h("p", { class: "muted" }, "No job yet."));
  for (const job of jobs) box.append(jobCard(job));
  if (jobs.some((job) => !FINISHED.has(job.state))) {
    poll = setTimeout(() => {
      if (box.isConnected) loadJobs(box);
    }, 1000);
  }
}

function jobCard(job) {
  const percent = job.total ? Math.round((100 * job.done) / job.total) : null;
  const card = h(
    "article",
    { class: "job", "data-job": job.id, "data-kind": job.kind, "data-state": job.state, "aria-label": `${kindName(job.kind)} ${job.id}` },
    h("header", {},
      h("strong", {}, kindName(job.kind)),
      job.database ? ` on ${job.database}` : "",
      " ",
      h("span", { class: `state badge state-${job.state}` }, job.state.replaceAll("_", " ")),
      h("span", { class: "muted" }, ` ${fmtTime(job.updated_at)}`),
    ),
    h("progress", { max: job.total || 1, value: FINISHED.has(job.state) && !job.total ? 1 : job.done, "aria-label": `progress of job ${job.id}` }),
    h("p", { class: "progress-text" }, job.total ? `${job.done} / ${job.total} (${percent}%)` : "", job.message ? ` — ${job.message}` : ""),
  );
  if (job.error) card.append(h("p", { class: "error" }, job.error));
  if (job.result) card.append(resultView(job.result));
  return card;
}

function resultView(result) {
  const { errors, warnings, ...rest } = result;
  const scalars = Object.entries(rest).filter(([, value]) => value === null || typeof value !== "object");
  const box = h("div", { class: "result" });
  if (scalars.length) box.append(h("p", { class: "summary" }, scalars.map(([k, v]) => `${k.replaceAll("_", " ")}: ${v}`).join(" · ")));
  if (Array.isArray(errors) && errors.length) {
    box.append(
      h("details", { open: true, class: "errors" },
        h("summary", {}, `${result.error_count ?? errors.length} line error(s)`),
        table(["Line", "Reason"], errors.map((e) => [String(e.line ?? ""), e.reason ?? JSON.stringify(e)]), { class: "grid compact" }),
      ),
    );
  }
  if (Array.isArray(warnings) && warnings.length) {
    box.append(h("details", { class: "warnings" }, h("summary", {}, `${warnings.length} warning(s)`), h("ul", {}, warnings.map((w) => h("li", {}, String(w))))));
  }
  return box;
}
