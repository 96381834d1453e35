"""Which processes are alive: how the engine and job records tell what a killed process left behind."""

from __future__ import annotations

import os
import socket

_HOST = socket.gethostname()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def this_process() -> str:
    """This process as ``host:pid``, the owner recorded on what it runs."""
    return f"{_HOST}:{os.getpid()}"


def owner_gone(owner: str | None) -> bool:
    """Whether ``owner`` (``host:pid``) names a process on this host that no longer exists. Another host's
    process cannot be checked from here: False."""
    if owner is None or ":" not in owner:
        return False
    host, _, pid = owner.rpartition(":")
    return host == _HOST and pid.isdigit() and not pid_alive(int(pid))
