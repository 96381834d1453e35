"""ColumnIndex at scale: 10,000 columns in one database, search latency and peak memory.

Uses a random-vector encoder (the Encoder port) so the figures measure the index, not BERT.
Run: python bench/retriever_index.py [--columns 10000] [--threads 1] [--cache-mb 512]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from retrieval.docs import ColumnDoc
from retrieval.encoder import Encoder, EncoderConfig, TokenVectors
from retrieval.index import ColumnIndex


class RandomEncoder(Encoder):
    """Unit vectors with realistic token counts (column 8-32 tokens, question 20)."""

    def __init__(self) -> None:
        self.config = EncoderConfig()
        self.generator = torch.Generator().manual_seed(0)

    @property
    def dim(self) -> int:
        return 384

    def _vectors(self, n: int, width: int, lengths: torch.Tensor) -> TokenVectors:
        vectors = F.normalize(torch.randn(n, width, self.dim, generator=self.generator), dim=-1)
        mask = torch.arange(width)[None, :] < lengths[:, None]
        return TokenVectors(vectors, mask)

    def encode_questions(self, questions: Sequence[str]) -> TokenVectors:
        return self._vectors(len(questions), 22, torch.full((len(questions),), 20))

    def encode_columns(self, docs: Sequence[ColumnDoc]) -> TokenVectors:
        width = self.config.column_max_len
        return self._vectors(len(docs), width, torch.randint(8, width + 1, (len(docs),), generator=self.generator))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--columns", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--searches", type=int, default=20)
    parser.add_argument("--cache-mb", type=int, default=512)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    docs = [ColumnDoc(db_id="big", table=f"t{i // 50}", column=f"c{i % 50}") for i in range(args.columns)]
    with tempfile.TemporaryDirectory() as tmp:
        index = ColumnIndex(Path(tmp), RandomEncoder(), "bench", cache_bytes=args.cache_mb * 2**20)
        start = time.perf_counter()
        index.upsert("big", docs)
        upsert_s = time.perf_counter() - start
        disk_mb = sum(p.stat().st_size for p in Path(tmp).rglob("*")) / 2**20
        after_upsert_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        latencies = []
        for _ in range(args.searches):
            start = time.perf_counter()
            hits = index.search("big", "which columns?")
            latencies.append((time.perf_counter() - start) * 1000)
        assert len(hits) == args.columns
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"columns={args.columns} cache_mb={args.cache_mb} upsert_s={upsert_s:.1f} disk_mb={disk_mb:.0f} "
        f"search_ms_p50={statistics.median(latencies):.0f} search_ms_max={max(latencies):.0f} "
        f"peak_rss_mb_after_upsert={after_upsert_mb:.0f} peak_rss_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
