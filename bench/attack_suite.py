"""The attack suite's per-engine figures (the table in docs/security.md): 205 attacks from a scripted hostile
model, each sent twice through /ask with an analyst key (the source's dialect, and an override
with the attack in the evidence), on SQLite and on throwaway PostgreSQL and MariaDB servers.

    .venv/bin/python bench/attack_suite.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    sys.exit(
        pytest.main(
            [
                "-q",
                "-s",
                "-p",
                "no:cacheprovider",
                "--rootdir",
                str(root),
                str(root / "tests" / "adversarial" / "test_attacks.py"),
                "-k",
                "write_nothing",
            ]
        )
    )
