"""Timestamps are ISO-8601 UTC strings: portable across graph engines and sortable as text."""

from datetime import UTC, datetime, timedelta


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def iso_ago(seconds: float) -> str:
    """The timestamp ``seconds`` ago, in ``now_iso``'s format (so the two compare as text)."""
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="microseconds")
