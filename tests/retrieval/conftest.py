"""Fixtures for the retriever: one zero-shot encoder per session (loading MiniLM twice takes ~1 s)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from retrieval.docs import ColumnDoc
from retrieval.encoder import DualTowerEncoder, EncoderConfig

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="session")
def encoder() -> DualTowerEncoder:
    return DualTowerEncoder.from_base(EncoderConfig(batch_size=4))


@pytest.fixture
def singer_docs() -> list[ColumnDoc]:
    return [
        ColumnDoc(db_id="concert_singer", table="singer", column="Name", examples=("Joe Sharp", "Timbaland")),
        ColumnDoc(db_id="concert_singer", table="singer", column="Country", examples=("Netherlands", "France")),
        ColumnDoc(db_id="concert_singer", table="singer", column="Age", data_type="number"),
        ColumnDoc(db_id="concert_singer", table="concert", column="concert_Name", description="name of the concert"),
        ColumnDoc(db_id="concert_singer", table="stadium", column="Capacity", value_explanation="number of seats"),
    ]
