"""Persisted column-tower token vectors per database, searched by late interaction.

Layout: ``<root>/<db folder>/manifest.json`` plus ``block_<n>.safetensors`` files, each a
padded block of ``block_size`` column slots: ``vectors`` float16 ``[block, token_len, dim]`` and
``mask`` bool ``[block, token_len]``. Upserts rewrite only the blocks they touch; a delete frees
its slot for the next insert. Search streams blocks through an LRU cache of float32 blocks with
a byte budget (default 512 MB), so memory stays bounded however many columns there are:
10,000 columns x 32 tokens x 384 dims is ~240 MB in float16 on disk and at most ~490 MB cached (a
cached block keeps only as many token positions as its longest column uses); beyond the budget,
blocks are re-read from disk (slower, not bigger).
A search scores a batch of questions in one pass over the blocks: one matrix product per block
for all their tokens, which is far cheaper per question than one pass each.
The index belongs to one model version: vectors from another encoder are not comparable.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import torch
from pydantic import BaseModel
from safetensors.torch import load_file, save_file
from torch import Tensor

from schemakg.retrieval.artifacts import save_json
from schemakg.retrieval.column_docs import ColumnDoc, column_text
from schemakg.retrieval.encoder import Encoder, TokenVectors
from schemakg.retrieval.paths import database_folder

_MASKED = -1.0e4
_QUESTION_MAJOR_TOKENS = 32  # up to this many question tokens in one product, question-major is faster
P = ParamSpec("P")
R = TypeVar("R")


def _locked(method: Callable[Concatenate[ColumnIndex, P], R]) -> Callable[Concatenate[ColumnIndex, P], R]:
    """One writer or reader at a time per index: the block cache and manifests are shared state."""

    @wraps(method)
    def wrapper(self: ColumnIndex, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class ScoredColumn(BaseModel):
    """One column's late-interaction score for a question."""

    key: str
    score: float
    normalised: float


@dataclass(frozen=True)
class ColumnScores:
    """Every column of one database scored against one question, in index (slot) order."""

    keys: list[str]
    raw: Tensor  # [n] late-interaction scores
    tokens: int  # the question's scoring-token count (at least 1): normalised = raw / tokens
    # [question tokens, n]: each question token's best match within each column, for the tokens of content words
    # (all tokens when the question has none). Its maxima over a group of columns say how well the group as a whole
    # covers the question (late interaction with the group as the document): routing ranks databases by it, and
    # focusing ranks the subject areas of a large one.
    per_token: Tensor | None = None

    def coverage(self, groups: Tensor | None = None, n_groups: int = 1) -> Tensor:
        """Mean over question tokens of the best match within each group of columns (``groups[i]``: column
        ``i``'s group, in ``range(n_groups)``); with no groups, the whole database's coverage, as ``[1]``."""
        if self.per_token is None or not self.keys or not len(self.per_token):  # no columns, or no scoring token
            return torch.zeros(n_groups)
        if groups is None:
            return self.per_token.amax(dim=1).mean().reshape(1)
        index = groups.expand(self.per_token.shape[0], -1)
        best = torch.full((self.per_token.shape[0], n_groups), _MASKED).scatter_reduce(
            1, index, self.per_token, reduce="amax"
        )
        return torch.where(best > _MASKED / 2, best, 0.0).mean(dim=0)  # an empty group covers nothing

    def subset(self, positions: Sequence[int]) -> ColumnScores:
        """The same question's scores over only the columns at ``positions`` (a large schema's focus)."""
        index = torch.tensor(positions, dtype=torch.long)
        per_token = None if self.per_token is None else self.per_token[:, index]
        return ColumnScores([self.keys[i] for i in positions], self.raw[index], self.tokens, per_token)

    def normalised(self) -> list[float]:
        return [score / self.tokens for score in self.raw.tolist()]

    def order(self) -> list[int]:
        """Positions best first; equal scores keep index order."""
        return torch.sort(self.raw, descending=True, stable=True).indices.tolist()

    def ranked(self, top: int | None = None) -> list[ScoredColumn]:
        """The best ``top`` columns (all when None), best first."""
        return self.pick(self.order()[:top])

    def pick(self, positions: Iterable[int]) -> list[ScoredColumn]:
        raw = self.raw.tolist()
        # model_construct: these values come from the index itself, and validating 10,000 of them costs more
        # than the matrix product.
        return [
            ScoredColumn.model_construct(key=self.keys[i], score=raw[i], normalised=raw[i] / self.tokens)
            for i in positions
        ]


@dataclass(frozen=True)
class _Block:
    """A cached block: ``tokens`` ``[dim + 1, n * length]`` float32 (one column per token slot), where a
    token that does not score is zero with -1e4 in the extra last dimension, so a question row ``[q, 1]``
    gets -1e4 from it straight out of the matrix product (no masking pass)."""

    tokens: Tensor
    n: int
    length: int


class _Manifest(BaseModel):
    model_version: str
    token_len: int
    dim: int
    block_size: int
    slots: list[str | None]  # column key per slot; None marks a free slot
    hashes: list[str | None]  # hash of the encoded column text, to skip unchanged upserts


class ColumnIndex:
    """Column vectors for many databases, one folder per database, tied to one model version."""

    def __init__(
        self, root: Path, encoder: Encoder, model_version: str, block_size: int = 512, cache_bytes: int = 512 * 2**20
    ) -> None:
        """``block_size`` applies to databases created by this instance; existing ones keep theirs."""
        self.root = Path(root)
        self.encoder = encoder
        self.model_version = model_version
        self.block_size = block_size
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[Path, _Block] = OrderedDict()
        self._cached = 0
        self._manifests: dict[Path, tuple[tuple[int, int], _Manifest]] = {}  # parsed, with the file's stamp
        self._lock = threading.RLock()  # API requests search while ingestion upserts

    @_locked
    def keys(self, db_id: str) -> list[str]:
        manifest = self._manifest(db_id)
        return [k for k in manifest.slots if k is not None] if manifest else []

    @_locked
    def upsert(self, db_id: str, docs: Sequence[ColumnDoc]) -> int:
        """Insert or replace columns by key; returns how many were (re-)encoded."""
        manifest = self._manifest(db_id, for_write=True) or self._new_manifest()
        slot_of = {k: i for i, k in enumerate(manifest.slots) if k is not None}
        max_examples = self.encoder.config.max_examples
        changed = [(d, _hash(column_text(d, max_examples))) for d in {d.key: d for d in docs}.values()]
        changed = [(d, h) for d, h in changed if d.key not in slot_of or manifest.hashes[slot_of[d.key]] != h]
        if not changed:
            return 0
        free = [i for i, k in enumerate(manifest.slots) if k is None]
        step = manifest.block_size  # a block's worth at a time: bounded memory for any upsert size
        for start in range(0, len(changed), step):
            chunk = changed[start : start + step]
            encoded = self.encoder.encode_columns([d for d, _ in chunk])
            slots = [self._claim(manifest, slot_of, free, d.key) for d, _ in chunk]
            for slot, (doc, digest) in zip(slots, chunk, strict=True):
                manifest.slots[slot] = doc.key
                manifest.hashes[slot] = digest
            self._write_slots(db_id, manifest, slots, encoded)
        return len(changed)

    @staticmethod
    def _claim(manifest: _Manifest, slot_of: dict[str, int], free: list[int], key: str) -> int:
        """The key's slot, else a freed one, else a new one at the end."""
        if key in slot_of:
            return slot_of[key]
        if free:
            return free.pop(0)
        manifest.slots.append(None)
        manifest.hashes.append(None)
        return len(manifest.slots) - 1

    @_locked
    def delete(self, db_id: str, keys: Iterable[str]) -> int:
        """Free the slots of these keys; returns how many existed."""
        manifest = self._manifest(db_id, for_write=True)
        if manifest is None:
            return 0
        wanted = set(keys)
        slots = [i for i, k in enumerate(manifest.slots) if k in wanted]
        if not slots:
            return 0
        for i in slots:
            manifest.slots[i] = None
            manifest.hashes[i] = None
        empty = TokenVectors(torch.zeros(len(slots), 1, manifest.dim), torch.zeros(len(slots), 1, dtype=torch.bool))
        self._write_slots(db_id, manifest, slots, empty)
        return len(slots)

    @_locked
    def drop(self, db_id: str) -> None:
        """Remove a whole database."""
        folder = self._folder(db_id)
        self._evict(folder)
        self._manifests.pop(folder / "manifest.json", None)
        shutil.rmtree(folder, ignore_errors=True)

    def search(self, db_id: str, question: str) -> list[ScoredColumn]:
        """Every column of ``db_id`` scored against ``question``, best first (encodes only the question)."""
        return self.search_vectors(db_id, self.encoder.encode_questions([question]))

    def search_vectors(self, db_id: str, question: TokenVectors) -> list[ScoredColumn]:
        """As :meth:`search` for an already encoded question (one row of ``question``)."""
        return self.score(db_id, question)[0].ranked()

    @torch.inference_mode()
    def score(self, db_id: str, questions: TokenVectors) -> list[ColumnScores]:
        """Every column of ``db_id`` against each encoded question, in one pass over the blocks. The lock is
        held only to look the blocks up (cached blocks are never changed in place, only replaced), so passes
        over different databases can run in parallel threads."""
        counts = questions.mask.sum(dim=1)
        blocks = self._live_blocks(db_id)
        if blocks is None:
            return [ColumnScores([], torch.zeros(0), max(int(c), 1)) for c in counts]
        rows = questions.vectors[questions.mask].float()  # [m, dim]: every question's scoring tokens, in order
        m = rows.shape[0]
        q = torch.cat([rows, torch.ones(m, 1)], dim=1)  # [m, dim + 1]
        owner = torch.repeat_interleave(torch.arange(len(counts)), counts)
        pool = torch.zeros(len(counts), m)  # [questions, m]: sums each question's own token rows
        pool[owner, torch.arange(m)] = 1.0
        # Few question tokens: question-major ([m, dim] @ [dim, tokens]) is the faster product on CPU;
        # from about three questions on, token-major is.
        question_major = m <= _QUESTION_MAJOR_TOKENS
        q_t = q.T.contiguous()
        keys: list[str] = []
        parts: list[Tensor] = []
        for block_keys, live, block in blocks:
            if question_major:  # best column token per question token: [m, n]
                per_token = (q @ block.tokens).view(m, block.n, block.length).amax(dim=2)
            else:
                per_token = (block.tokens.T @ q_t).view(block.n, block.length, m).amax(dim=1).T
            keys.extend(block_keys)
            parts.append(per_token if len(live) == block.n else per_token[:, live])
        tokens = torch.cat(parts, dim=1) if parts else torch.zeros(m, 0)  # [m, columns]
        raw = pool @ tokens
        per_question = torch.split(tokens, counts.tolist())
        if questions.content is not None:
            content = torch.split(questions.content[questions.mask], counts.tolist())
            per_question = tuple(
                rows[words] if words.any() else rows for rows, words in zip(per_question, content, strict=True)
            )
        return [ColumnScores(keys, raw[i].contiguous(), max(int(c), 1), per_question[i]) for i, c in enumerate(counts)]

    @_locked
    def _live_blocks(self, db_id: str) -> list[tuple[list[str], list[int], _Block]] | None:
        """Each block that holds columns: their keys, their slots in the block, and the block in scoring form."""
        manifest = self._manifest(db_id)
        if manifest is None:
            return None
        folder = self._folder(db_id)
        blocks = []
        for b in range(self._n_blocks(manifest)):
            block_keys = manifest.slots[b * manifest.block_size : (b + 1) * manifest.block_size]
            live = [i for i, k in enumerate(block_keys) if k is not None]
            if live:
                block = self._block(folder / f"block_{b:05d}.safetensors")
                blocks.append(([k for k in block_keys if k is not None], live, block))
        return blocks

    @_locked
    def warm(self, db_id: str) -> int:
        """Load ``db_id``'s blocks into the cache while they fit; returns how many are cached."""
        manifest = self._manifest(db_id)
        if manifest is None:
            return 0
        folder = self._folder(db_id)
        paths = [folder / f"block_{b:05d}.safetensors" for b in range(self._n_blocks(manifest))]
        for path in paths:
            if path.exists():
                self._block(path)
        return sum(path in self._cache for path in paths)

    def _write_slots(self, db_id: str, manifest: _Manifest, slots: list[int], encoded: TokenVectors) -> None:
        folder = self._folder(db_id)
        folder.mkdir(parents=True, exist_ok=True)
        width = min(encoded.vectors.shape[1], manifest.token_len)
        by_block: dict[int, list[tuple[int, int]]] = {}
        for row, slot in enumerate(slots):
            by_block.setdefault(slot // manifest.block_size, []).append((row, slot % manifest.block_size))
        for b, rows in by_block.items():
            path = folder / f"block_{b:05d}.safetensors"
            if path.exists():
                stored = load_file(path)
                vectors, mask = stored["vectors"], stored["mask"]
            else:
                vectors = torch.zeros(manifest.block_size, manifest.token_len, manifest.dim, dtype=torch.float16)
                mask = torch.zeros(manifest.block_size, manifest.token_len, dtype=torch.bool)
            for row, offset in rows:
                vectors[offset].zero_()
                mask[offset] = False
                vectors[offset, :width] = encoded.vectors[row, :width].to(torch.float16)
                mask[offset, :width] = encoded.mask[row, :width]
            self._evict(path)
            tmp = path.with_suffix(".tmp")
            save_file({"vectors": vectors, "mask": mask}, tmp)
            tmp.replace(path)
        save_json(folder / "manifest.json", manifest.model_dump())
        self._manifests.pop(folder / "manifest.json", None)

    def _block(self, path: Path) -> _Block:
        """A block in scoring form (converted once on load: per-search conversion costs more than the matmul)."""
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        tensors = load_file(path)
        vectors, mask = tensors["vectors"], tensors["mask"]
        used = mask.any(dim=0).nonzero()
        length = int(used.max()) + 1 if len(used) else 1  # positions past the longest column never score
        # Slots past the last one in use are never scored either: a small database's only block holds a few
        # dozen columns in 512 slots, and caching the empty ones cost 17 times the memory and evicted the rest.
        slots = mask.any(dim=1).nonzero()
        n = int(slots.max()) + 1 if len(slots) else 1
        vectors, mask = vectors[:n, :length].float(), mask[:n, :length]
        n, dim = vectors.shape[0], vectors.shape[2]
        padding = (~mask).unsqueeze(-1).float() * _MASKED
        tokens = torch.cat([vectors * mask.unsqueeze(-1), padding], dim=2).reshape(n * length, dim + 1).T.contiguous()
        block = _Block(tokens, n, length)
        self._cache[path] = block
        self._cached += _nbytes(block)
        while self._cached > self.cache_bytes and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached -= _nbytes(old)
        return block

    def _evict(self, path: Path) -> None:
        for cached in [p for p in self._cache if path in (p, p.parent)]:
            self._cached -= _nbytes(self._cache.pop(cached))

    def _manifest(self, db_id: str, for_write: bool = False) -> _Manifest | None:
        """The database's manifest; readers share one parsed copy while the file is unchanged (a search
        would otherwise parse every slot's key each time), writers get their own."""
        path = self._folder(db_id) / "manifest.json"
        try:
            stat = path.stat()
        except FileNotFoundError:
            self._manifests.pop(path, None)
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._manifests.get(path)
        if cached is not None and cached[0] == stamp and not for_write:
            return cached[1]
        manifest = _Manifest.model_validate_json(path.read_text())
        if manifest.model_version != self.model_version:
            raise ValueError(
                f"index for {db_id!r} was built by model {manifest.model_version}, not {self.model_version}; rebuild it"
            )
        if not for_write:
            self._manifests[path] = (stamp, manifest)
        return manifest

    def _new_manifest(self) -> _Manifest:
        return _Manifest(
            model_version=self.model_version,
            token_len=self.encoder.config.column_max_len,
            dim=self.encoder.dim,
            block_size=self.block_size,
            slots=[],
            hashes=[],
        )

    @staticmethod
    def _n_blocks(manifest: _Manifest) -> int:
        return -(-len(manifest.slots) // manifest.block_size)

    def _folder(self, db_id: str) -> Path:
        return database_folder(self.root, db_id)


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _nbytes(block: _Block) -> int:
    return block.tokens.numel() * block.tokens.element_size()
