"""Thread defaults: llama.cpp's decoding and torch get every usable core but one (at least one), llama.cpp's
prompt processing every core; an explicit setting wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemakg.kernel import settings as settings_module
from schemakg.kernel.settings import Settings, default_threads, usable_cpus


@pytest.fixture
def no_thread_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("SCHEMAKG_LLM_THREADS", raising=False)
    monkeypatch.delenv("SCHEMAKG_TORCH_THREADS", raising=False)
    monkeypatch.delenv("SCHEMAKG_LLM_BATCH_THREADS", raising=False)
    return monkeypatch


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (4, 3), (16, 15)])
def test_the_default_leaves_one_core_to_the_rest_of_the_service(
    no_thread_env: pytest.MonkeyPatch, tmp_path: Path, cores: int, threads: int
) -> None:
    no_thread_env.setattr(settings_module.os, "sched_getaffinity", lambda _pid: set(range(cores)))
    no_thread_env.setattr(settings_module, "CGROUP_CPU_MAX", tmp_path / "absent")
    assert usable_cpus() == cores
    assert default_threads() == threads
    settings = Settings()
    assert (settings.llm_threads, settings.torch_threads) == (threads, threads)
    assert settings.llm_batch_threads == cores


def test_a_container_cpu_quota_caps_the_cores(no_thread_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    no_thread_env.setattr(settings_module, "CGROUP_CPU_MAX", cpu_max)
    no_thread_env.setattr(settings_module.os, "sched_getaffinity", lambda _pid: set(range(16)))
    cpu_max.write_text("250000 100000\n")  # docker run --cpus 2.5: three cores' worth of threads at most
    assert (usable_cpus(), Settings().llm_threads) == (3, 2)
    cpu_max.write_text("50000 100000\n")  # half a core: still one thread
    assert (usable_cpus(), Settings().torch_threads) == (1, 1)
    cpu_max.write_text("max 100000\n")  # no quota: the affinity
    assert usable_cpus() == 16


def test_the_affinity_wins_over_the_core_count(no_thread_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``taskset -c 0,1`` on a bigger host: two cores, whatever ``os.cpu_count()`` says."""
    no_thread_env.setattr(settings_module, "CGROUP_CPU_MAX", tmp_path / "absent")
    no_thread_env.setattr(settings_module.os, "sched_getaffinity", lambda _pid: {0, 1})
    no_thread_env.setattr(settings_module.os, "cpu_count", lambda: 64)
    assert Settings().llm_threads == 1


def test_explicit_settings_win(no_thread_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_thread_env.setattr(settings_module, "CGROUP_CPU_MAX", tmp_path / "absent")
    no_thread_env.setattr(settings_module.os, "sched_getaffinity", lambda _pid: set(range(8)))
    no_thread_env.setenv("SCHEMAKG_LLM_THREADS", "2")
    no_thread_env.setenv("SCHEMAKG_TORCH_THREADS", "4")
    assert (Settings().llm_threads, Settings().torch_threads) == (2, 4)
    no_thread_env.setenv("SCHEMAKG_LLM_BATCH_THREADS", "3")
    assert (Settings().llm_threads, Settings().llm_batch_threads) == (2, 3)
    assert Settings(llm_threads=5).llm_threads == 5
    no_thread_env.setenv("SCHEMAKG_LLM_THREADS", "0")
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Settings()
