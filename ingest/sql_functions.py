"""Which functions generated SQL may call: an allowlist per dialect, shared by the guard (which
checks the parsed query) and the SQLite execution layer (whose authorizer checks every function
the engine actually calls).

A function is allowed when sqlglot knows it as a typed expression (``exp.Count``, ``exp.Substring``
…: portable analytic functions, rendered in the source's own spelling), except the few typed
expressions that read files, call out or advance sequences, or when its name is on the
dialect's list of read-only analytic functions below. Everything else — locks, sequences,
settings, files, large objects, XML/dblink query wrappers, WAL messages, sleeps, extensions,
user-defined functions — is refused, whatever it is called.
"""

from __future__ import annotations

from sqlglot import exp

# Typed sqlglot expressions that are not read-only analytics.
DENIED_EXPRESSIONS = frozenset({
    "AIGenerate", "GenerateEmbedding", "GenerateText", "NextValueFor", "ReadCSV", "ReadParquet", "ToFile",
    "Seq1", "Seq2", "Seq4", "Seq8", "CurrentTransaction", "Randstr",
})

_ANALYTIC = frozenset({
    # aggregates and window functions
    "avg", "count", "max", "min", "sum", "total", "group_concat", "string_agg", "array_agg", "median",
    "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "bool_and", "bool_or", "every",
    "corr", "covar_pop", "covar_samp", "regr_slope", "regr_intercept", "regr_r2", "regr_count",
    "percentile_cont", "percentile_disc", "mode", "row_number", "rank", "dense_rank", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value", "percent_rank", "cume_dist",
    # scalar
    "abs", "round", "floor", "ceil", "ceiling", "power", "pow", "sqrt", "exp", "ln", "log", "log10", "log2",
    "mod", "sign", "pi", "trunc", "truncate", "greatest", "least", "coalesce", "nullif", "ifnull", "iif",
    "upper", "lower", "length", "char_length", "character_length", "substr", "substring", "replace", "trim",
    "ltrim", "rtrim", "reverse", "concat", "concat_ws", "lpad", "rpad", "left", "right", "instr", "position",
    "strpos", "cast", "date", "time", "datetime", "now", "current_date", "current_time", "current_timestamp",
    "random", "rand",
})

ALLOWED_FUNCTIONS: dict[str, frozenset[str]] = {
    "sqlite": _ANALYTIC | {
        "julianday", "strftime", "unixepoch", "timediff", "printf", "format", "char", "unicode", "hex", "typeof",
        "likely", "unlikely", "likelihood", "glob", "like", "soundex", "json", "json_extract", "json_array_length",
        "json_type", "json_valid", "json_each", "json_tree", "json_group_array", "json_group_object", "acos", "asin",
        "atan", "atan2", "cos", "sin", "tan", "degrees", "radians", "octet_length", "quote", "min", "max",
    },
    "postgres": _ANALYTIC | {
        "to_char", "to_date", "to_timestamp", "to_number", "date_trunc", "date_part", "extract", "age",
        "justify_days", "justify_hours", "make_date", "make_timestamp", "make_interval", "split_part", "initcap",
        "btrim", "regexp_replace", "regexp_match", "regexp_matches", "string_to_array", "array_to_string",
        "array_length", "cardinality", "unnest", "generate_series", "width_bucket", "div", "cbrt", "degrees",
        "radians", "octet_length", "md5", "format", "chr", "ascii", "repeat", "translate", "starts_with",
        "jsonb_extract_path_text", "json_extract_path_text", "jsonb_array_length", "json_array_length",
        "to_json", "row_to_json", "json_agg", "jsonb_agg", "json_build_object", "jsonb_build_object",
        "clock_timestamp", "localtimestamp", "statement_timestamp", "isfinite", "nullif",
    },
    "mysql": _ANALYTIC | {
        "date_format", "str_to_date", "datediff", "timestampdiff", "timestampadd", "date_add", "date_sub",
        "adddate", "subdate", "year", "month", "day", "dayofmonth", "dayofweek", "dayofyear", "weekday", "week",
        "weekofyear", "quarter", "hour", "minute", "second", "curdate", "curtime", "sysdate", "dayname",
        "monthname", "last_day", "makedate", "unix_timestamp", "from_unixtime", "timediff", "time_to_sec",
        "sec_to_time", "to_days", "period_diff", "if", "locate", "substring_index", "field", "find_in_set",
        "lcase", "ucase", "format", "char", "ascii", "repeat", "space", "octet_length", "regexp_replace",
        "regexp_substr", "regexp_like", "json_extract", "json_unquote", "json_length", "json_arrayagg",
        "json_objectagg", "bit_and", "bit_or", "bit_xor", "std", "conv", "hex", "md5", "strcmp", "degrees",
        "radians", "cot", "extract", "convert",
    },
}


def allowed_functions(dialect: str) -> frozenset[str]:
    """The anonymous (untyped) function names this sqlglot dialect may call; unknown dialects get
    the portable analytic set only."""
    return ALLOWED_FUNCTIONS.get(dialect, _ANALYTIC)


def refused_function(node: exp.Func, dialect: str) -> str | None:
    """The name of ``node`` if it may not be called in ``dialect``, else None."""
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        return None if name in allowed_functions(dialect) else name
    if type(node).__name__ in DENIED_EXPRESSIONS:
        return node.sql_name().lower()
    return None


# The names SQLite's authorizer sees: the sqlite allowlist plus the spellings sqlglot renders its
# typed expressions in, and the functions behind the LIKE and GLOB operators.
SQLITE_ENGINE_FUNCTIONS = ALLOWED_FUNCTIONS["sqlite"] | {
    "like", "glob", "iif", "if", "strftime", "instr", "group_concat", "substring", "replace", "trim", "typeof",
    "coalesce", "ifnull", "nullif", "lower", "upper", "length", "abs", "round", "date", "time", "datetime",
}
