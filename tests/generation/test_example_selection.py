from schemakg.generation.example_selection import mask_question, name_words, sql_reads, sql_shape


def test_name_words_split_names_and_add_plurals() -> None:
    words = name_words(["home_team", "concert_singer__singer", "public.Orders"])
    assert {"home", "team", "teams", "concert", "singer", "singers", "orders", "public"} <= words
    assert "__" not in words and "" not in words


def test_sql_reads_names_the_tables_and_columns_read() -> None:
    sql = "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.singer_id WHERE T2.year > 2014"
    assert set(sql_reads(sql).names) == {"singer", "concert", "name", "id", "singer_id", "year"}
    assert sql_reads("SELECT FROM WHERE (").names == []


def test_mask_question_hides_schema_words_and_values() -> None:
    words = name_words(["singer", "age", "country"])
    masked = mask_question("How many singers from France are older than 30 and named 'Joe'?", words)
    assert masked == "How many <mask> from <value> are older than <value> and named <value> ?"
    # A capital at the start of a sentence is not a value.
    assert mask_question("Show ages. Which country?", words) == "Show <mask> . Which <mask> ?"


def test_same_shape_questions_mask_alike() -> None:
    first = mask_question("How many singers are older than 40?", name_words(["singer", "age"]))
    second = mask_question("How many cars are older than 5?", name_words(["cars", "model_year"]))
    assert first == second


def test_sql_shape_ignores_values_case_and_spacing_only() -> None:
    assert sql_shape("SELECT count(*) FROM t WHERE a > 5") == sql_shape("select  COUNT(*) from T where A > 9")
    assert sql_shape("SELECT name FROM t WHERE a = 'x'") == sql_shape("SELECT name FROM t WHERE a = 'y'")
    assert sql_shape("SELECT count(*) FROM t WHERE a > 5") != sql_shape("SELECT count(*) FROM t WHERE a < 5")
    assert sql_shape("SELECT name FROM t") != sql_shape("SELECT id FROM t")


def test_sql_reads_tables_qualified_and_lower_cased_without_ctes() -> None:
    sql = "WITH top AS (SELECT id FROM Music.Singer) SELECT * FROM top JOIN m__Concert ON top.id = m__Concert.sid"
    assert sql_reads(sql, "postgres").tables == {"music.singer", "m__concert"}
    assert sql_reads("SELECT FROM WHERE (").tables == frozenset()
