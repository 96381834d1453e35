from schemakg.generation.answer import view_schema
from schemakg.generation.schema_render import approx_tokens, fit_to_budget, only_tables, render, union_schema
from schemakg.kernel.model import column_ref
from schemakg.retrieval.join_paths import JoinCondition
from schemakg.retrieval.linked_schema import Dependency, LinkedColumn, LinkedSchema


def _schema() -> LinkedSchema:
    return LinkedSchema(
        database="hr",
        dialect="sqlite",
        tables=["employees", "departments"],
        table_descriptions={"departments": "Organisational units"},
        columns=[
            LinkedColumn(table="employees", name="EMPLOYEE_ID", data_type="INT", is_pk=True, score=0.2),
            LinkedColumn(
                table="employees",
                name="SALARY",
                data_type="DECIMAL",
                description="Monthly pay",
                examples=["2500", "9000"],
                value_explanation="in USD",
                score=0.9,
            ),
            LinkedColumn(table="employees", name="NOTES", data_type="TEXT", description="free text " * 20, score=0.05),
            LinkedColumn(table="employees", name="DEPARTMENT_ID", data_type="INT", join_key=True, score=0.01),
            LinkedColumn(table="departments", name="DEPARTMENT_ID", data_type="INT", is_pk=True, join_key=True),
            LinkedColumn(table="departments", name="DEPARTMENT_NAME", examples=["IT", "O'Neil"], score=0.5),
        ],
        joins=[JoinCondition(left=("employees", "DEPARTMENT_ID"), right=("departments", "DEPARTMENT_ID"), source="fk")],
        dependencies=[
            Dependency(head="jobs.MAX_SALARY", relation="bounds", tail="employees.SALARY", text="salary <= max")
        ],
        value_hints=["'IT' is a value of departments.DEPARTMENT_NAME"],
    )


def test_rendering_carries_every_part() -> None:
    text = render(_schema())
    assert "CREATE TABLE departments (  -- Organisational units" in text
    assert "SALARY DECIMAL,  -- Monthly pay; in USD" in text  # a number column's examples cost digits, say nothing
    assert "DEPARTMENT_ID INT REFERENCES departments(DEPARTMENT_ID)" in text
    assert "e.g. 'IT', 'O''Neil'" in text
    assert "-- Joins" not in text  # the join is its key's REFERENCES already
    assert "--   jobs.MAX_SALARY bounds employees.SALARY: salary <= max" in text
    assert "'IT' is a value of departments.DEPARTMENT_NAME" in text


def test_joins_that_no_references_clause_carries_are_listed() -> None:
    """A key column with two joins names one as REFERENCES; a join whose key is not shown has none, nor has a
    join inferred from shared names (no key of the source)."""
    schema = _schema()
    joins = [
        *schema.joins,
        JoinCondition(left=("employees", "DEPARTMENT_ID"), right=("managers", "DEPARTMENT_ID"), source="log"),
        JoinCondition(left=("employees", "MANAGER_ID"), right=("employees", "EMPLOYEE_ID"), source="fk"),
        JoinCondition(left=("employees", "EMPLOYEE_ID"), right=("badges", "EMPLOYEE_ID"), source="name"),
    ]
    text = render(schema.model_copy(update={"joins": joins}))
    assert "DEPARTMENT_ID INT REFERENCES departments(DEPARTMENT_ID)" in text
    assert "EMPLOYEE_ID INT PRIMARY KEY," in text
    listed = text.split("-- Joins:\n")[1].split("\n\n")[0].splitlines()
    assert listed == [
        "--   employees.DEPARTMENT_ID = managers.DEPARTMENT_ID",
        "--   employees.MANAGER_ID = employees.EMPLOYEE_ID",
        "--   employees.EMPLOYEE_ID = badges.EMPLOYEE_ID",
    ]


def test_budget_drops_least_relevant_columns_but_never_join_keys() -> None:
    schema = _schema()
    full = approx_tokens(render(schema))
    fitted = fit_to_budget(schema, full - 10)
    names = [c.name for c in fitted.columns]
    assert "NOTES" not in names and "SALARY" in names  # the lowest score goes first
    tiny = fit_to_budget(schema, 1)
    kept = {(c.table, c.name) for c in tiny.columns}
    assert kept == {("employees", "EMPLOYEE_ID"), ("employees", "DEPARTMENT_ID"), ("departments", "DEPARTMENT_ID")}


def test_schema_qualified_tables_are_written_as_the_source_reads_them() -> None:
    schema = LinkedSchema(
        database="warehouse",
        dialect="postgresql",
        tables=["concert.concert", "concert.singer", "Hr.Staff"],
        columns=[
            LinkedColumn(table="concert.concert", name="singer_id", data_type="INTEGER"),
            LinkedColumn(table="concert.singer", name="singer_id", data_type="INTEGER", is_pk=True),
            LinkedColumn(table="Hr.Staff", name="id", data_type="INTEGER"),
        ],
        joins=[
            JoinCondition(left=("concert.concert", "singer_id"), right=("concert.singer", "singer_id"), source="fk")
        ],
        dependencies=[
            Dependency(head=column_ref("Hr.Staff", "id"), relation="is", tail=column_ref("concert.singer", "singer_id"))
        ],
    )
    text = render(schema)
    assert "CREATE TABLE concert.concert (" in text and "CREATE TABLE concert.singer (" in text
    assert 'CREATE TABLE "Hr"."Staff" (' in text  # PostgreSQL folds unquoted names to lower case
    assert "singer_id INTEGER REFERENCES concert.singer(singer_id)" in text
    assert "concert.concert.singer_id = concert.singer.singer_id" not in text  # said by the REFERENCES
    assert '--   "Hr"."Staff".id is concert.singer.singer_id' in text  # references (concert\\.singer...) as SQL
    assert '"concert.singer"' not in text and '"Hr.Staff"' not in text and "\\" not in text


def _full() -> LinkedSchema:
    linked = _schema()
    extra = [
        LinkedColumn(table="employees", name="EMAIL", data_type="TEXT"),
        LinkedColumn(table="jobs", name="JOB_ID", data_type="TEXT", is_pk=True),
        LinkedColumn(table="jobs", name="MAX_SALARY", data_type="INT"),
    ]
    joins = [*linked.joins, JoinCondition(left=("employees", "JOB_ID"), right=("jobs", "JOB_ID"), source="fk")]
    update = {"tables": ["jobs", *linked.tables], "columns": extra + linked.columns, "joins": joins, "value_hints": []}
    return linked.model_copy(update=update)


def test_the_union_shows_the_linked_schema_first_then_the_rest() -> None:
    union = union_schema(_schema(), _full())
    assert union.tables == ["employees", "departments", "jobs"]
    refs = union.column_refs()
    assert refs[: len(_schema().columns)] == _schema().column_refs()
    assert set(refs) == set(_full().column_refs()) and len(refs) == len(set(refs))
    assert union.value_hints == _schema().value_hints and len(union.joins) == 2


def test_auto_takes_the_full_schema_only_when_it_fits_the_budget() -> None:
    linked, full = _schema(), _full()
    size = approx_tokens(render(full))
    assert view_schema("auto", linked, full, budget=size) == full
    assert view_schema("auto", linked, full, budget=size - 1) == linked
    assert view_schema("union", linked, full, budget=1) == union_schema(linked, full)
    assert view_schema("linked", linked, full, budget=10**6) == linked
    assert view_schema("full", linked, full, budget=1) == full
    assert view_schema("union", None, full, budget=1) == full  # nothing linked: the full schema


def test_a_schema_cut_down_to_some_tables_keeps_only_what_lies_among_them() -> None:
    cut = only_tables(_schema(), ["departments"])
    assert cut.tables == ["departments"] and cut.table_descriptions == {"departments": "Organisational units"}
    assert [c.name for c in cut.columns] == ["DEPARTMENT_ID", "DEPARTMENT_NAME"]
    assert cut.joins == [] and cut.dependencies == [] and cut.value_hints == []
    both = only_tables(_schema(), ["employees", "departments", "jobs"])
    assert len(both.joins) == 1 and len(both.columns) == 6
    assert len(both.dependencies) == 1  # jobs.MAX_SALARY bounds employees.SALARY: both tables are kept
