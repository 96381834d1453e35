"""Timestamps are ISO-8601 UTC strings: portable across graph engines and sortable as text."""

from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
