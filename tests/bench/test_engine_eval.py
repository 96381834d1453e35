from pathlib import Path

from bench.engine_eval import eval_command, table


def _report(ex: float, executable: float, p50: float) -> dict:
    return {
        "n": 100,
        "execution_accuracy": ex,
        "execution_accuracy_ci95": [ex - 0.1, ex + 0.1],
        "executable_rate": executable,
        "latency_s_p50": p50,
    }


def test_each_engine_is_compared_with_sqlite_for_the_same_model() -> None:
    rows = table(
        {
            ("small", "sqlite"): _report(0.5, 0.9, 8.0),
            ("small", "postgres"): _report(0.42, 0.8, 9.25),
            ("large", "mariadb"): _report(0.7, 1.0, 15.0),
        }
    ).splitlines()
    assert rows[2] == "| small | sqlite | 100 | 0.50 (0.40–0.60) | 0.90 | +0.00 | 8.0 s |"
    assert rows[3] == "| small | postgres | 100 | 0.42 (0.32–0.52) | 0.80 | -0.08 | 9.2 s |"
    assert rows[4] == "| large | mariadb | 100 | 0.70 (0.60–0.80) | 1.00 | — | 15.0 s |"  # no SQLite run to compare


def test_only_the_server_engines_get_an_engine_url(tmp_path: Path) -> None:
    sqlite = eval_command(tmp_path, tmp_path / "q.json", 100, 0, tmp_path, None)
    postgres = eval_command(tmp_path, tmp_path / "q.json", 100, 0, tmp_path, "postgresql+psycopg://u@h/postgres")
    assert "--engine-url" not in sqlite
    assert postgres[-2:] == ["--engine-url", "postgresql+psycopg://u@h/postgres"]
    assert sqlite[sqlite.index("--history") + 1] == sqlite[sqlite.index("--questions") + 1]  # the log is the split
