// The proposals queue: LLM-extracted knowledge with its evidence (the logged question and SQL), a word diff
// against the column's current description, and approve or reject, one at a time or in bulk.

import { all, api, dbPath } from "./api.js";
import { h, splitRef } from "./dom.js";
import { notify, showError } from "./notice.js";
import { sqlBlock } from "./sql.js";

/** Word-level diff (longest common subsequence) of two texts as <del>/<ins> runs. */
export function diff(before, after) {
  const a = (before || "").split(/(\s+)/).filter(Boolean).slice(0, 600);
  const b = (after || "").split(/(\s+)/).filter(Boolean).slice(0, 600);
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const runs = []; // [kind, text]: "", "ins" or "del", adjacent words of one kind merged
  const push = (kind, word) => {
    if (runs.length && runs.at(-1)[0] === kind) runs.at(-1)[1] += word;
    else runs.push([kind, word]);
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) push("", a[i++]), j++;
    else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) push("del", a[i++]);
    else push("ins", b[j++]);
  }
  const out = h("p", { class: "diff" });
  for (const [kind, text] of runs) out.append(kind ? h(kind, {}, text) : text);
  return out;
}

export async function proposalsPage(view, _params, query) {
  const databases = await all("/databases");
  view.append(h("h1", {}, "Proposals"));
  if (!databases.length) {
    view.append(h("p", { class: "muted" }, "No database yet."));
    return;
  }
  const db = query.get("db") || databases[0].name;
  const state = query.get("state") || "pending";
  const go = () => (location.hash = `#/proposals?db=${encodeURIComponent(dbSelect.value)}&state=${stateSelect.value}`);
  const dbSelect = h("select", { id: "prop-db", onchange: go }, databases.map((d) => h("option", { value: d.name, selected: d.name === db }, d.name)));
  const stateSelect = h("select", { id: "prop-state", onchange: go }, ["pending", "approved", "rejected"].map((s) => h("option", { value: s, selected: s === state }, s)));
  view.append(h("div", { class: "row filters" }, h("div", {}, h("label", { for: "prop-db" }, "Database"), dbSelect), h("div", {}, h("label", { for: "prop-state" }, "State"), stateSelect)));

  const proposals = await all(`${dbPath(db)}/proposals`, { state });
  const current = await currentDescriptions(db, proposals);
  const decide = async (ids, verb) => {
    let done = 0;
    for (const id of ids) {
      try {
        await api("POST", `/proposals/${encodeURIComponent(id)}/${verb}`);
        done++;
      } catch (error) {
        showError(error);
      }
    }
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    notify(`${verb === "approve" ? "Approved" : "Rejected"} ${done} proposal(s).`, "ok");
  };
  const list = h("div", { id: "proposals" });
  const boxes = [];
  for (const proposal of proposals) {
    const box = h("input", { type: "checkbox", id: `pick-${proposal.id}`, "data-id": proposal.id, disabled: proposal.state !== "pending" });
    boxes.push(box);
    list.append(proposalCard(proposal, current.get(proposal.column), box, decide));
  }
  const selected = () => boxes.filter((b) => b.checked).map((b) => b.dataset.id);
  if (state === "pending" && proposals.length) {
    const selectAll = h("input", { type: "checkbox", id: "pick-all" });
    selectAll.addEventListener("change", () => boxes.forEach((b) => (b.checked = selectAll.checked)));
    view.append(
      h("div", { class: "bulk", role: "toolbar", "aria-label": "Bulk decisions" },
        h("label", { class: "check" }, selectAll, " Select all"),
        h("button", { type: "button", class: "primary", id: "approve-selected", onclick: () => decide(selected(), "approve") }, "Approve selected"),
        h("button", { type: "button", class: "danger", id: "reject-selected", onclick: () => decide(selected(), "reject") }, "Reject selected"),
      ),
    );
  }
  view.append(proposals.length ? list : h("p", { class: "muted" }, `No ${state} proposal for ${db}.`));
}

// The current description of each column the proposals are about, one columns request per table.
async function currentDescriptions(db, proposals) {
  const tables = new Set(proposals.filter((p) => p.kind === "column_description").map((p) => splitRef(p.column)[0]));
  const found = new Map();
  await Promise.all(
    [...tables].map(async (t) => {
      try {
        for (const c of await all(`${dbPath(db, t)}/columns`)) found.set(refOf(t, c.name), c.description);
      } catch {
        // a table that left the catalogue: the proposal's own 'previous' stands in
      }
    }),
  );
  return found;
}

const refOf = (t, c) => (/[.\\]/.test(t) ? t.replace(/\\/g, "\\\\").replace(/\./g, "\\.") : t) + "." + c;

function proposalCard(p, currentText, box, decide) {
  const [t, c] = splitRef(p.column);
  const href = `#/db/${encodeURIComponent(p.database)}/t/${encodeURIComponent(t)}/c/${encodeURIComponent(c)}`;
  const card = h("article", { class: "proposal", "data-proposal": p.id, "aria-labelledby": `title-${p.id}` });
  card.append(
    h("header", {},
      h("label", { class: "check", for: box.id }, box, h("span", { class: "visually-hidden" }, `Select proposal ${p.id}`)),
      h("h2", { id: `title-${p.id}` }, p.kind === "dependency" ? "Dependency" : "Column description", " · ", h("a", { href }, p.column)),
      h("span", { class: `badge state-${p.state}` }, p.state),
    ),
  );
  if (p.kind === "column_description") {
    const before = currentText === undefined ? p.previous : currentText;
    card.append(h("h3", {}, "Proposed description (diff against the current text)"), diff(before, p.description));
    if (p.similarity !== null && p.similarity !== undefined) card.append(h("p", { class: "muted" }, `similarity to the current text: ${p.similarity.toFixed(2)}`));
  } else {
    card.append(h("p", {}, h("code", {}, p.column), ` ${p.relation || "depends on"} `, h("code", {}, p.tail || "?")), p.text ? h("p", {}, p.text) : null);
  }
  card.append(
    h("details", { class: "evidence", open: true },
      h("summary", {}, `Evidence: ${p.example_source || "query log"}${p.example_line ? `, line ${p.example_line}` : ""} · model ${p.model}`),
      h("p", { class: "question" }, h("strong", {}, "Question: "), p.example_question),
      sqlBlock(p.example_sql, "logged SQL"),
    ),
  );
  if (p.state === "pending") {
    card.append(
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: () => decide([p.id], "approve") }, "Approve"),
        h("button", { type: "button", class: "danger", onclick: () => decide([p.id], "reject") }, "Reject"),
      ),
    );
  } else if (p.decided_by) {
    card.append(h("p", { class: "muted" }, `${p.state} by ${p.decided_by} at ${p.decided_at}`));
  }
  return card;
}
