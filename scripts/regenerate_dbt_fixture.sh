#!/usr/bin/env bash
# Regenerates tests/fixtures/dbt/hr/{manifest,catalog}.json with real dbt (dbt-core + dbt-duckdb in a throwaway
# virtual environment, never the project's): the HR sample copied into a DuckDB warehouse (schema raw), the
# models built into schema main, then `dbt parse` and `dbt docs generate`. Usage: scripts/regenerate_dbt_fixture.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
project="$here/tests/fixtures/dbt/hr"
venv="${DBT_VENV:-/tmp/dbt-venv}"
if [[ ! -x "$venv/bin/dbt" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "dbt-core>=1.10,<1.11" "dbt-duckdb>=1.10,<1.11"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$project/dbt_project.yml" "$project/profiles.yml" "$project/models" "$work/"
export HR_DUCKDB_PATH="$work/hr.duckdb" DBT_SEND_ANONYMOUS_USAGE_STATS=false DBT_VERSION_CHECK=false
"$venv/bin/python" - "$here/schemakg/samples/hr_1.sqlite" "$HR_DUCKDB_PATH" <<'PY'
import sqlite3, sys
import duckdb
source, target = sqlite3.connect(sys.argv[1]), duckdb.connect(sys.argv[2])
target.execute("create schema raw")
for (table,) in source.execute("select name from sqlite_master where type = 'table' order by name").fetchall():
    columns = source.execute(f"pragma table_info('{table}')").fetchall()
    types = ["varchar" if c[2].lower() == "date" else c[2] for c in columns]  # the sample has 0000-00-00 dates
    target.execute(f"create table raw.{table} ({', '.join(f'{c[1]} {t}' for c, t in zip(columns, types))})")
    rows = source.execute(f"select * from {table}").fetchall()
    if rows:
        target.executemany(f"insert into raw.{table} values ({', '.join('?' * len(columns))})", rows)
target.close()
PY
cd "$work"
"$venv/bin/dbt" parse --profiles-dir . --target-path target
"$venv/bin/dbt" run --profiles-dir . --target-path target
"$venv/bin/dbt" docs generate --profiles-dir . --target-path target
cp target/manifest.json target/catalog.json "$project/"
"$venv/bin/python" -c "import dbt.version, dbt.adapters.duckdb.__version__ as d; print(f'dbt-core {dbt.version.__version__}, dbt-duckdb {d.version}')" > "$project/dbt-version.txt"
echo "wrote $project/manifest.json ($(stat -c %s "$project/manifest.json") bytes) and catalog.json"
