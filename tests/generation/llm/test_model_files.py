"""Building a GGUF from model parts installed as Python distributions (small fake ones on sys.path)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemakg.app.cli.llm import app as llm_cli
from schemakg.generation.llm import model_files
from schemakg.generation.llm.model_files import ModelFilesError, PackagedModel, ensure_gguf

SLICES = [b"GGUF" + b"\x03\x00" * 50, b"middle slice " * 40, b"last"]


def _install_part(site: Path, number: int, data: bytes, recorded: bytes | None = None) -> Path:
    """A wheel-installed part as pip lays it out: package data plus a dist-info with METADATA and RECORD."""
    package = f"fake_llm_part{number}"
    data_file = site / package / "data" / f"part{number:02d}.bin"
    data_file.parent.mkdir(parents=True)
    data_file.write_bytes(data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(recorded or data).digest()).rstrip(b"=").decode()
    dist_info = site / f"{package}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fake-llm-part{number}\nVersion: 1.0\n")
    (dist_info / "RECORD").write_text(
        f"{package}/data/part{number:02d}.bin,sha256={digest},{len(data)}\n{package}-1.0.dist-info/RECORD,,\n"
    )
    return data_file


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    for number, data in enumerate(SLICES, start=1):
        _install_part(site, number, data)
    monkeypatch.syspath_prepend(str(site))
    model = PackagedModel("fake-llm", "test model", "fake-llm-part", len(SLICES), "install the fakes")
    monkeypatch.setitem(model_files.PACKAGED_MODELS, model.name, model)
    return site


def test_parts_are_joined_in_order(fake_model: Path, tmp_path: Path) -> None:
    path = ensure_gguf("fake-llm", tmp_path / "models")
    assert path == tmp_path / "models" / "fake-llm.gguf"
    assert path.read_bytes() == b"".join(SLICES)
    assert sorted(p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_an_up_to_date_file_is_reused_and_a_changed_part_rebuilds_it(fake_model: Path, tmp_path: Path) -> None:
    path = ensure_gguf("fake-llm", tmp_path / "models")
    built_at = path.stat().st_mtime_ns
    assert ensure_gguf("fake-llm", tmp_path / "models").stat().st_mtime_ns == built_at
    # A new release of part 3 with the same size: only the manifest tells the difference.
    (fake_model / "fake_llm_part3" / "data" / "part03.bin").write_bytes(b"LAST")
    record = fake_model / "fake_llm_part3-1.0.dist-info" / "RECORD"
    new_digest = base64.urlsafe_b64encode(hashlib.sha256(b"LAST").digest()).rstrip(b"=").decode()
    record.write_text(f"fake_llm_part3/data/part03.bin,sha256={new_digest},4\n")
    assert ensure_gguf("fake-llm", tmp_path / "models").read_bytes().endswith(b"LAST")


def test_a_corrupt_part_fails_and_leaves_no_file(fake_model: Path, tmp_path: Path) -> None:
    (fake_model / "fake_llm_part2" / "data" / "part02.bin").write_bytes(b"x" * len(SLICES[1]))
    with pytest.raises(ModelFilesError, match=r"fake-llm-part2.*SHA-256"):
        ensure_gguf("fake-llm", tmp_path / "models")
    assert [p.name for p in (tmp_path / "models").iterdir() if not p.name.endswith(".lock")] == []


def test_a_missing_part_names_it_and_the_setup_step(
    fake_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = PackagedModel("fake-llm", "test model", "fake-llm-part", 4, "scripts/setup_llm.sh")
    monkeypatch.setitem(model_files.PACKAGED_MODELS, model.name, model)
    expected = r"1 of 4 parts are not installed \(fake-llm-part4\); run scripts/setup_llm.sh"
    with pytest.raises(ModelFilesError, match=expected):
        ensure_gguf("fake-llm", tmp_path / "models")


def test_parts_that_do_not_start_a_gguf_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_part(tmp_path / "site", 1, b"not a model")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setitem(model_files.PACKAGED_MODELS, "fake-llm", PackagedModel("fake-llm", "", "fake-llm-part", 1, ""))
    with pytest.raises(ModelFilesError, match="does not start a GGUF"):
        ensure_gguf("fake-llm", tmp_path / "models")


def test_unknown_model_lists_the_packaged_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelFilesError, match=re.escape("qwen2.5-coder-0.5b, qwen2.5-coder-1.5b")):
        ensure_gguf("gpt-17", tmp_path)


def test_cli_prepare_prints_path_and_size(fake_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEMAKG_DATA_DIR", str(tmp_path / "data"))
    outcome = CliRunner().invoke(llm_cli, ["prepare", "--model", "fake-llm"])
    assert outcome.exit_code == 0, outcome.output
    assert str(tmp_path / "data" / "models" / "llm" / "fake-llm.gguf") in outcome.output and "MiB" in outcome.output
    failed = CliRunner().invoke(llm_cli, ["prepare", "--model", "gpt-17"])
    assert failed.exit_code == 1 and "unknown model" in failed.output
