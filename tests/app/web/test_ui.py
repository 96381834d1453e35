"""The web UI in a real browser (headless chromium) over a live service: the steward's whole flow, the
analyst's read-only view, keyboard search, and how fast a 300-column table page loads."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from schemakg.app.container import Container
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import Proposal, ProposalKind
from tests.conftest import ADMIN_KEY

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
    page.get_by_label("Name").fill(db_name)
    page.get_by_label("Connection URL").fill(f"sqlite://steward:{PASSWORD}@localhost/{sample_copy}")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#notice")).to_contain_text(f"Registered {db_name}: sqlite://steward:***@")
    page.get_by_label("Database", exact=True).select_option(db_name)
    page.get_by_role("button", name="Ingest schema and values").click()
    ingest = page.locator("article.job[data-kind=ingest_schema]", has_text=db_name).first
    expect(ingest).to_have_attribute("data-state", "succeeded", timeout=120_000)
    expect(ingest.locator(".summary")).to_contain_text("tables: 7")
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
    etag = httpx.get(column_url, headers=admin).headers["etag"]
    other = {**admin, "If-Match": etag}
    assert httpx.patch(column_url, json={"description": "Gross monthly pay"}, headers=other).status_code == 200
    page.get_by_role("button", name="Edit description").click()
    page.get_by_role("textbox", name="Description").fill("Monthly salary in US dollars")
    page.get_by_role("button", name="Save").click()
    conflict = page.locator("#field-description form.conflict")
    expect(conflict.locator(".theirs")).to_have_text("Gross monthly pay")
    expect(conflict.locator(".mine")).to_have_text("Monthly salary in US dollars")
    expect(conflict).to_contain_text("someone else saved a newer version")
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

    # 6b. Keyboard search: type, arrow down to a hit, Enter opens it.
    page.keyboard.press("/")
    expect(page.locator("#search-input")).to_be_focused()
    page.keyboard.type("Gross monthly pay")
    options = page.locator("#search-results [role=option]")
    expect(options.first).to_be_visible()
    page.screenshot(path=shots / "search.png")
    page.keyboard.press("Enter")
    expect(page.locator("main[data-view=columnPage] h1")).to_have_text("employees.SALARY")
