"""The web UI in a real browser (headless chromium) over a live service: the steward's whole flow, the
analyst's read-only view, keyboard search, and how fast a 300-column table page loads."""

from __future__ import annotations

import json
import re
import sqlite3
import statistics
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Locator, Page, expect

from schemakg.app.container import Container
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import Proposal, ProposalKind
from tests.canned_llm import CannedModel, sql_reply
from tests.conftest import ADMIN_KEY, small_warehouse, wait_for_job

PASSWORD = "Ui-pa55word-never-shown"
LOG_LINES = [
    {"question": "Who earns the most?", "sql": "SELECT first_name FROM employees ORDER BY salary DESC LIMIT 1"},
    {"question": "How many departments are there?", "sql": "SELECT count(*) FROM departments"},
    {"question": "no sql on this line"},
    {"question": "Which jobs pay over 10000 at most?", "sql": "SELECT job_title FROM jobs WHERE max_salary > 10000"},
]


def sign_in(page: Page, url: str, key: str, shots: Path | None = None) -> None:
    page.goto(f"{url}/ui/")
    expect(page.locator("main[data-view=sign-in]")).to_be_visible()
    if shots:
        page.screenshot(path=shots / "sign-in.png")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main[data-view=databasesPage]")).to_be_visible()


VIEWS = {"Browse": "databasesPage", "Ask": "askPage", "Proposals": "proposalsPage", "Jobs": "jobsPage"}


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
  .map((el) => el.outerHTML.slice(0, 80))"""


def assert_accessible_names(page: Page) -> None:
    """Every control on the page has a label, an aria-label or text: what a screen reader announces."""
    assert page.evaluate(UNLABELLED) == []


# WCAG 2 contrast of text on its own opaque background: badges, keys, buttons, the navigation, the notice.
LOW_CONTRAST = """() => {
  const rgb = (value) => value.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const low = [];
  for (const el of document.querySelectorAll('.badge, .key, button, #nav a, .notice, .sql-block span, th')) {
    const style = getComputedStyle(el);
    let bg = el;
    while (bg && rgb(getComputedStyle(bg).backgroundColor)[3] === 0) bg = bg.parentElement;
    const back = bg ? rgb(getComputedStyle(bg).backgroundColor) : [255, 255, 255];
    const [a, b] = [lum(rgb(style.color)), lum(back)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (el.textContent.trim() && ratio < 4.5) low.push(`${el.className || el.tagName}: ${ratio.toFixed(2)}`);
  }
  return low;
}"""


def assert_contrast(page: Page) -> None:
    assert page.evaluate(LOW_CONTRAST) == []


def nav(page: Page, section: str) -> None:
    """Opens a section from the navigation bar and waits until its page is drawn."""
    page.locator("#nav").get_by_role("link", name=section).click()
    expect(page.locator(f"main[data-view={VIEWS[section]}][aria-busy=false]")).to_be_visible()


def open_view(page: Page, url: str, fragment: str, view: str) -> None:
    page.goto(f"{url}/ui/#{fragment}")
    expect(page.locator(f"main[data-view={view}][aria-busy=false]")).to_be_visible()


def test_the_ui_is_served_with_its_assets_and_outside_the_openapi_document(client: TestClient) -> None:
    index = client.get("/ui/")
    assert index.status_code == 200 and 'src="static/js/main.js"' in index.text
    assert "default-src 'self'" in index.headers["content-security-policy"]
    assert client.get("/ui", follow_redirects=False).headers["location"] == "/ui/"
    script = client.get("/ui/static/js/main.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get("/ui/static/app.css").status_code == 200
    assert client.get("/ui/static/nope.js").status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/ui")]
    assert "/whoami" in paths


def test_the_helpers_split_references_encode_names_and_diff_words(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/ui/")
    found = page.evaluate(
        r"""async () => {
        const dom = await import("./static/js/dom.js");
        const api = await import("./static/js/api.js");
        const graph = await import("./static/js/graph.js");
        const proposals = await import("./static/js/proposals.js");
        const sql = await import("./static/js/sql.js");
        const diff = proposals.diff("The e-mail address", "Work e-mail address");
        return {
          plain: dom.splitRef("employees.SALARY"),
          qualified: dom.splitRef("concert\\.singer.name.x"),
          segments: [api.seg("a/b c"), api.seg(".."), api.seg("x.y")],
          edges: graph.joinEdges([["a", "b", "c"], ["c", "b"]]),
          deleted: [...diff.querySelectorAll("del")].map((e) => e.textContent),
          inserted: [...diff.querySelectorAll("ins")].map((e) => e.textContent),
          keywords: [...sql.highlight("select 'from' FROM t -- where").querySelectorAll(".tok-keyword")].map(
            (e) => e.textContent),
        };
      }"""
    )
    assert found["plain"] == ["employees", "SALARY"]
    assert found["qualified"] == ["concert.singer", "name.x"]
    assert found["segments"] == ["a%2Fb%20c", "%2E%2E", "x.y"]
    assert found["edges"] == [["a", "b"], ["b", "c"]]
    assert found["deleted"] == ["The"] and found["inserted"] == ["Work"]
    assert found["keywords"] == ["select", "FROM"]  # not inside a string or a comment
    # The contrast check sees grey on white.
    page.evaluate("""() => {
      const faint = document.createElement("span");
      faint.className = "badge";
      faint.textContent = "faint";
      Object.assign(faint.style, { color: "#aaaaaa", background: "#ffffff" });
      document.body.append(faint);
    }""")
    assert page.evaluate(LOW_CONTRAST) == ["badge: 2.32"]


def test_whoami_names_the_key_and_its_role_never_its_secret(client: TestClient, admin: dict[str, str]) -> None:
    created = client.post("/api-keys", json={"name": "ui-ana", "role": "analyst"}, headers=admin).json()
    me = client.get("/whoami", headers={"X-API-Key": created["key"]})
    assert me.status_code == 200
    assert me.json() == {"id": created["id"], "name": "ui-ana", "role": "analyst", "created_at": created["created_at"]}
    assert created["key"] not in me.text
    assert client.get("/whoami").status_code == 401
    assert client.get("/whoami", headers={"X-API-Key": "skg_wrong"}).status_code == 401


def test_the_steward_flow(
    page: Page,
    live_url: str,
    container: Container,
    admin: dict[str, str],
    db_name: str,
    sample_copy: Path,
    tmp_path: Path,
    shots: Path,
) -> None:
    # 1. Sign in: a wrong key is refused, the right one shows the admin's navigation.
    page.goto(f"{live_url}/ui/")
    page.get_by_label("API key").fill("skg_not_a_key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sign-in-error")).to_have_text("That key was not accepted.")
    sign_in(page, live_url, ADMIN_KEY, shots)
    expect(page.locator("#who")).to_contain_text("admin")
    assert ADMIN_KEY not in page.url
    expect(page.locator("#nav").get_by_role("link", name="Proposals")).to_be_visible()

    # 2. Register the sample (its URL comes back masked) and ingest it, watching the job finish.
    nav(page, "Jobs")
    expect(page.locator("main[data-view=jobsPage]")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(db_name)
    page.get_by_label("Connection URL").fill(f"sqlite://steward:{PASSWORD}@localhost/{sample_copy}")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#notice")).to_contain_text(f"Registered {db_name}: sqlite://steward:***@")
    page.get_by_label("Database", exact=True).select_option(db_name)
    page.get_by_role("button", name="Ingest schema and values").click()
    ingest = page.locator("article.job[data-kind=ingest_schema]", has_text=db_name).first
    expect(ingest).to_have_attribute("data-state", "succeeded", timeout=120_000)
    expect(ingest.locator(".summary")).to_contain_text("tables: 7")
    assert_accessible_names(page)
    assert PASSWORD not in page.content()

    # Browse: databases, tables, columns (types, keys, values, distinct counts, null fractions, badges).
    nav(page, "Browse")
    page.locator("#databases").get_by_role("link", name=db_name).click()
    expect(page.locator("#tables")).to_contain_text("employees")
    page.screenshot(path=shots / "database.png")
    page.locator("#tables").get_by_role("link", name="employees", exact=True).click()
    columns = page.locator("#columns")
    expect(columns.locator("tbody tr")).to_have_count(11)
    salary_row = columns.locator("tr", has=page.get_by_role("link", name="SALARY", exact=True))
    expect(salary_row).to_contain_text("DECIMAL(8, 2)")
    expect(columns.locator("tr", has_text="DEPARTMENT_ID").first).to_contain_text("FK → departments.DEPARTMENT_ID")
    expect(columns.locator("tr", has_text="EMPLOYEE_ID").first).to_contain_text("PK")
    page.screenshot(path=shots / "table.png", full_page=False)
    assert_contrast(page)

    # 3. Edit a description inline.
    salary_row.get_by_role("link", name="SALARY").click()
    expect(page.locator("main[data-view=columnPage]")).to_be_visible()
    page.get_by_role("button", name="Edit description").click()
    page.get_by_role("textbox", name="Description").fill("Monthly salary in USD")
    page.get_by_role("button", name="Save").click()
    description = page.locator("#field-description")
    expect(description.locator(".value")).to_have_text("Monthly salary in USD")
    expect(description.locator(".badge")).to_have_text("steward")

    # 4. Someone else saves first: the steward's save gets 412, sees their text, and merges.
    column_url = f"{live_url}/databases/{db_name}/tables/employees/columns/SALARY"
    dana = httpx.post(f"{live_url}/api-keys", json={"name": "dana", "role": "steward"}, headers=admin).json()["key"]
    etag = httpx.get(column_url, headers=admin).headers["etag"]
    other = {"X-API-Key": dana, "If-Match": etag}
    assert httpx.patch(column_url, json={"description": "Gross monthly pay"}, headers=other).status_code == 200
    page.get_by_role("button", name="Edit description").click()
    page.get_by_role("textbox", name="Description").fill("Monthly salary in US dollars")
    page.get_by_role("button", name="Save").click()
    conflict = page.locator("#field-description form.conflict")
    expect(conflict.locator(".theirs")).to_have_text("Gross monthly pay")
    expect(conflict.locator(".mine")).to_have_text("Monthly salary in US dollars")
    expect(conflict).to_contain_text("someone else saved a newer version")
    expect(conflict).to_contain_text("Changed by dana (steward)")
    page.screenshot(path=shots / "conflict.png")
    page.get_by_label("Merged text to save").fill("Gross monthly pay in US dollars")
    page.get_by_role("button", name="Save merged").click()
    expect(description.locator(".value")).to_have_text("Gross monthly pay in US dollars")
    assert httpx.get(column_url, headers=admin).json()["description"] == "Gross monthly pay in US dollars"
    description.get_by_role("button", name="History").click()
    history = description.locator(".history tbody tr")
    expect(history).to_have_count(3)
    expect(history.first).to_contain_text("Gross monthly pay in US dollars")
    expect(history.first).to_contain_text("steward")
    page.get_by_role("button", name="Edit synonyms").click()
    page.get_by_role("textbox", name="Synonyms").fill("pay, wage")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#field-synonyms .value")).to_have_text("pay, wage")
    page.screenshot(path=shots / "column.png", full_page=True)
    assert_accessible_names(page)

    # 5. Approve a proposal (the LLM's knowledge, seeded here: completion with the model is tested in
    #    tests/generation/test_knowledge.py), one by itself, the others in bulk.
    for pid, column, text in [
        ("a", "employees.EMAIL", "Work e-mail address, without the domain"),
        ("b", "employees.PHONE_NUMBER", "Office phone number"),
        ("c", "employees.HIRE_DATE", "Day the employee joined"),
    ]:
        container.proposals_repo.create(
            Proposal(
                id=f"{db_name}-{pid}",
                database=db_name,
                kind=ProposalKind.COLUMN_DESCRIPTION,
                column=column,
                description=text,
                example_question="What is the e-mail of Steven King?",
                example_sql="SELECT email FROM employees WHERE first_name = 'Steven' AND last_name = 'King'",
                example_source="history.jsonl",
                example_line=7,
                model="qwen2.5-coder-0.5b",
                created_at=now_iso(),
            )
        )
    email_url = f"{live_url}/databases/{db_name}/tables/employees/columns/EMAIL"
    assert httpx.patch(email_url, json={"description": "The e-mail address, without the domain"}, headers=admin)
    nav(page, "Proposals")
    page.get_by_label("Database").select_option(db_name)
    cards = page.locator("article.proposal")
    expect(cards).to_have_count(3)
    first = page.locator(f"[data-proposal='{db_name}-a']")
    expect(first.locator(".diff del")).to_have_text("The")
    expect(first.locator(".diff ins")).to_have_text("Work")
    expect(first).to_contain_text("What is the e-mail of Steven King?")
    expect(first.locator(".tok-keyword").first).to_have_text("SELECT")
    page.screenshot(path=shots / "proposals.png")
    assert_accessible_names(page)
    assert_contrast(page)
    first.get_by_role("button", name="Approve").click()
    expect(page.locator("#notice")).to_contain_text("Approved 1 proposal(s).")
    expect(cards).to_have_count(2)
    page.get_by_label("Select all").check()
    page.get_by_role("button", name="Reject selected").click()
    expect(page.locator("#notice")).to_contain_text("Rejected 2 proposal(s).")
    email = httpx.get(email_url, headers=admin).json()
    assert email["description"] == "Work e-mail address, without the domain"
    phone = httpx.get(f"{live_url}/databases/{db_name}/tables/employees/columns/PHONE_NUMBER", headers=admin).json()
    assert phone["description"] != "Office phone number"

    # 6. Upload a query log with one bad line; the job finishes and names the line.
    log = tmp_path / "history.jsonl"
    log.write_text("\n".join(json.dumps(line) for line in LOG_LINES) + "\n")
    nav(page, "Jobs")
    page.get_by_label("Database", exact=True).select_option(db_name)
    page.get_by_label("Log file").set_input_files(log)
    page.get_by_role("button", name="Upload").click()
    upload = page.locator("article.job[data-kind=ingest_query_log]", has_text=db_name).first
    expect(upload).to_have_attribute("data-state", "succeeded_with_errors", timeout=120_000)
    expect(upload.locator(".errors tbody tr")).to_have_count(1)
    expect(upload.locator(".errors tbody tr")).to_contain_text("3")
    expect(upload.locator(".errors")).to_contain_text("sql")
    page.screenshot(path=shots / "jobs.png", full_page=True)
    assert_contrast(page)

    # 6b. Keyboard search: "/" focuses the box, arrows move through the hits, Enter opens the chosen one.
    page.keyboard.press("/")
    expect(page.locator("#search-input")).to_be_focused()
    page.keyboard.type("salary")
    options = page.locator("#search-results [role=option]")
    expect(options.nth(1)).to_be_visible()
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#search-input")).to_have_attribute("aria-activedescendant", "search-hit-1")
    page.screenshot(path=shots / "search.png")
    chosen = options.nth(1).locator(".name").inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("main[data-view=columnPage] h1, main[data-view=tablePage] h1")).to_have_text(chosen)


def _register(client: TestClient, admin: dict[str, str], name: str, path: Path) -> None:
    assert client.post("/databases", json={"name": name, "url": f"sqlite:///{path}"}, headers=admin).status_code == 201
    job = client.post(f"/databases/{name}/ingest", headers=admin).json()
    assert wait_for_job(client, admin, job["id"], timeout_s=120)["state"] == "succeeded"


def _ask(page: Page, live_url: str, database: str, question: str) -> Locator:
    """Signed in as the admin, ask ``question`` over ``database`` (empty: the whole catalogue); the answer."""
    sign_in(page, live_url, ADMIN_KEY)
    nav(page, "Ask")
    page.get_by_label("Ask over").select_option(database)
    page.get_by_label("Question").fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()
    answer = page.locator("#answer .answer")
    expect(answer).to_be_visible(timeout=600_000)
    return answer


def test_an_analyst_sees_no_edit_controls(
    page: Page, live_url: str, client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path, shots: Path
) -> None:
    _register(client, admin, db_name, sample_copy)
    key = client.post("/api-keys", json={"name": "ui-analyst", "role": "analyst"}, headers=admin).json()["key"]
    sign_in(page, live_url, key)
    expect(page.locator("#who")).to_contain_text("analyst")
    expect(page.locator("#nav a")).to_have_text(["Browse", "Ask", "Jobs"])  # no proposals queue
    open_view(page, live_url, f"/db/{db_name}/t/employees/c/SALARY", "columnPage")
    expect(page.locator("#field-description")).to_be_visible()
    expect(page.get_by_role("button", name="History").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Edit"))).to_have_count(0)
    page.screenshot(path=shots / "analyst-column.png")
    open_view(page, live_url, f"/db/{db_name}/t/employees", "tablePage")
    expect(page.get_by_role("button", name=re.compile("^Edit"))).to_have_count(0)
    nav(page, "Jobs")
    expect(page.locator("#register")).to_have_count(0)
    expect(page.get_by_role("button", name="Ingest schema and values")).to_have_count(0)
    expect(page.get_by_role("button", name="Upload")).to_have_count(0)
    open_view(page, live_url, "/proposals", "not-found")  # the queue is the steward's
    # Signing out forgets the key: a reload asks for one again.
    page.get_by_role("button", name="Sign out").click()
    assert page.evaluate("sessionStorage.length") == 0
    page.reload()
    expect(page.locator("main[data-view=sign-in]")).to_be_visible()


@pytest.mark.slow
def test_asking_shows_the_sql_the_rows_and_the_join_graph(
    page: Page, live_url: str, client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path, shots: Path
) -> None:
    """7. The one question with the suite's real local model (the 0.5B)."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    _register(client, admin, db_name, sample_copy)
    answer = _ask(page, live_url, db_name, "List the first name of every employee in the department named 'Executive'.")
    expect(answer.locator(".sql-block .tok-keyword").first).to_have_text(re.compile("SELECT|WITH", re.IGNORECASE))
    expect(answer.locator("#rows tbody tr").first).to_be_visible()
    graph = answer.locator("svg.link-graph")
    expect(graph.locator("g.table-node[data-table=employees]")).to_have_count(1)
    expect(graph.locator("g.table-node[data-table=departments]")).to_have_count(1)
    expect(graph.locator("path.edge.join")).not_to_have_count(0)
    expect(answer.locator("table.timings tbody tr")).not_to_have_count(0)
    page.screenshot(path=shots / "ask.png", full_page=True)
    assert_accessible_names(page)

    # Knowledge completion from the Jobs page, over one logged example, with the same model.
    body = "\n".join(json.dumps(line) for line in LOG_LINES[:2]).encode()
    upload = client.post(f"/databases/{db_name}/query-logs", content=body, headers=admin).json()
    assert wait_for_job(client, admin, upload["id"])["state"] == "succeeded"
    nav(page, "Jobs")
    page.get_by_label("Database", exact=True).select_option(db_name)
    page.get_by_label("At most this many logged examples").fill("1")
    page.get_by_role("button", name="Start knowledge completion").click()
    completion = page.locator("article.job[data-kind=complete_knowledge]", has_text=db_name).first
    expect(completion).to_have_attribute("data-state", re.compile("^succeeded"), timeout=600_000)
    expect(completion.locator(".summary")).to_contain_text("examples: 1")


@pytest.mark.slow
def test_a_routed_question_shows_why_and_asks_again_over_another_database(
    page: Page, live_url: str, client: TestClient, admin: dict[str, str], db_name: str, sample_copy: Path, shots: Path
) -> None:
    """A question over the whole catalogue (the real 0.5B model): the candidates with their best tables, and one
    click to ask again over another of them."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    for name in (db_name, f"{db_name}_copy"):  # at least two candidates, whatever else the suite registered
        _register(client, admin, name, sample_copy)
    answer = _ask(page, live_url, "", "How many employees work in Shipping?")
    routes = answer.locator("table.routes tbody tr")
    expect(routes).not_to_have_count(0)
    routed = answer.locator("p.routed strong").inner_text()
    expect(routes.first).to_contain_text(routed)
    expect(routes.first).to_contain_text("answered here")
    expect(routes.first.locator("code", has_text="employees")).to_have_count(1)  # why: its best tables
    expect(routes.first).to_contain_text("'Shipping' is a value of departments.DEPARTMENT_NAME")  # and its values
    page.locator("#answer .routing").screenshot(path=shots / "ask-routed.png")
    assert_accessible_names(page)
    other = routes.nth(1).locator("button.ask-over")  # another candidate: asked over it with one click
    name = other.get_attribute("data-database")
    assert name and name != routed
    other.click()
    expect(page.locator(f'#answer .answer[data-database="{name}"]')).to_be_visible(timeout=600_000)
    expect(page.get_by_label("Ask over")).to_have_value(name)
    expect(page.locator("#answer table.routes")).to_have_count(0)  # a named database is not routed


@pytest.mark.slow
def test_a_route_says_that_its_database_lacks_the_value_the_question_quotes(
    page: Page, live_url: str, client: TestClient, admin: dict[str, str], db_name: str, tmp_path: Path
) -> None:
    """A small database whose full list of species holds no 'Axolotl' (the real 0.5B model answers): its route
    says so, with what routing took from its score for it."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    path = tmp_path / "aquarium.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE aquarium_tanks (tank_id INTEGER PRIMARY KEY, species TEXT, litres INTEGER)")
        conn.executemany(
            "INSERT INTO aquarium_tanks (species, litres) VALUES (?, ?)",
            [("Guppy", 60), ("Neon tetra", 120), ("Angelfish", 200), ("Guppy", 80)],
        )
    _register(client, admin, db_name, path)
    answer = _ask(page, live_url, "", "How many aquarium tanks hold the species 'Axolotl'?")
    first = answer.locator("table.routes tbody tr").first
    expect(first.locator("strong")).to_have_text(db_name)
    expect(first.locator(".route-lacks")).to_have_text(
        re.compile(r"^none of 'axolotl' is among its sampled values \(-0\.\d\d\)$")
    )


@pytest.mark.slow
def test_a_warehouse_answer_says_which_subject_areas_it_read(
    page: Page, live_url: str, client: TestClient, admin: dict[str, str], db_name: str, tmp_path: Path
) -> None:
    """A question over a schema large enough to be focused (the real 0.5B model): the subject areas linking kept,
    the best first, with their coverage and best tables."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    _register(client, admin, db_name, small_warehouse(tmp_path / "warehouse.sqlite"))
    answer = _ask(page, live_url, db_name, "What are the names of the concerts of singers from France?")
    areas = answer.locator("dl.facts ol.areas li")
    expect(areas.first.locator("code")).to_have_text("music")
    expect(areas.first).to_contain_text("music__singer")
    expect(areas.first).to_contain_text(re.compile(r"coverage \d\.\d\d"))
    assert_accessible_names(page)


def test_a_refused_statement_is_said_plainly(
    page: Page,
    live_url: str,
    container: Container,
    client: TestClient,
    admin: dict[str, str],
    db_name: str,
    sample_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A model that slips a DELETE after its SELECT (canned: the real one cannot be made to on demand); the
    real guard refuses it, and the page says so instead of showing rows."""
    _register(client, admin, db_name, sample_copy)
    with container._llm_lock:  # a warm-up loading the real model finishes first, then is replaced
        monkeypatch.setattr(container, "_llm", CannedModel(sql_reply("SELECT * FROM employees; DELETE FROM employees")))
        monkeypatch.setattr(container, "_answering", None)  # rebuilt with the canned model, and again after
    sign_in(page, live_url, ADMIN_KEY)
    nav(page, "Ask")
    page.get_by_label("Ask over").select_option(db_name)
    page.get_by_label("Question").fill("Remove every employee")
    page.get_by_role("button", name="Ask", exact=True).click()
    refusal = page.locator("#answer .refused[role=alert]")
    expect(refusal).to_contain_text("The SQL was refused and not run.", timeout=120_000)
    expect(page.locator("#answer #rows")).to_have_count(0)
    expect(refusal).to_contain_text("This service only reads data.")
    with sqlite3.connect(sample_copy) as conn:
        assert conn.execute("SELECT count(*) FROM employees").fetchone()[0] == 107


WIDE_COLUMNS = 300


def test_a_table_page_with_300_columns_renders_fast(
    page: Page, live_url: str, client: TestClient, admin: dict[str, str], db_name: str, tmp_path: Path, shots: Path
) -> None:
    """Server time plus browser load, from navigation start to the drawn column table; the median of 5 fresh
    loads is printed and recorded in docs/ui.md. The bound asserted here is generous: a measurement, not a gate."""
    path = tmp_path / "wide.sqlite"
    with sqlite3.connect(path) as conn:
        names = [f"measure_{i:03d} {'TEXT' if i % 3 else 'INTEGER'}" for i in range(WIDE_COLUMNS)]
        conn.execute(f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {', '.join(names)})")
        row = [i if i % 3 == 0 else f"value {i}" for i in range(WIDE_COLUMNS)]
        marks = ", ".join("?" * (WIDE_COLUMNS + 1))
        conn.executemany(f"INSERT INTO wide VALUES ({marks})", [[n, *row] for n in range(20)])
    _register(client, admin, db_name, path)
    sign_in(page, live_url, ADMIN_KEY)
    loads = []
    for _ in range(5):
        page.goto("about:blank")
        page.goto(f"{live_url}/ui/#/db/{db_name}/t/wide")
        expect(page.locator("main[data-view=tablePage][aria-busy=false]")).to_be_visible()
        expect(page.locator("#columns tbody tr")).to_have_count(WIDE_COLUMNS + 1)
        loads.append(page.evaluate("performance.getEntriesByName('schemakg:rendered:tablePage')[0].startTime"))
    median = statistics.median(loads)
    print(f"\n300-column table page: median {median:.0f} ms over 5 loads ({', '.join(f'{x:.0f}' for x in loads)})")
    page.screenshot(path=shots / "wide-table.png")
    assert median < 5000
