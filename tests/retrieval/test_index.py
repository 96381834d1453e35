from __future__ import annotations

from pathlib import Path

import pytest
import torch

from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.encoder import DualTowerEncoder, TokenVectors, late_interaction, normalise
from schemakg.retrieval.index import ColumnIndex


def test_search_equals_direct_scoring(tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]) -> None:
    index = ColumnIndex(tmp_path, encoder, "zero-shot", block_size=2)  # several blocks
    assert index.upsert("concert_singer", singer_docs) == len(singer_docs)
    question = "Which singers come from France?"
    q = encoder.encode_questions([question])
    direct = normalise(late_interaction(q, encoder.encode_columns(singer_docs)), q.mask)[0]
    expected = {d.key: float(s) for d, s in zip(singer_docs, direct, strict=True)}
    hits = index.search("concert_singer", question)
    assert [h.key for h in hits] == sorted(expected, key=expected.__getitem__, reverse=True)
    for h in hits:
        assert h.normalised == pytest.approx(expected[h.key], abs=2e-3)  # float16 storage


def test_incremental_upsert_and_delete(tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]) -> None:
    index = ColumnIndex(tmp_path, encoder, "zero-shot", block_size=2)
    index.upsert("db", singer_docs)
    assert index.upsert("db", singer_docs) == 0  # unchanged text: nothing re-encoded
    assert index.delete("db", ["singer.Age"]) == 1
    changed = singer_docs[0].model_copy(update={"description": "stage name"})
    new = ColumnDoc(db_id="db", table="singer", column="Is_male")
    assert index.upsert("db", [changed, new]) == 2
    reopened = ColumnIndex(tmp_path, encoder, "zero-shot")  # persisted
    keys = {h.key for h in reopened.search("db", "male singers")}
    assert keys == {d.key for d in singer_docs if d.key != "singer.Age"} | {"singer.Is_male"}
    assert len(reopened.keys("db")) == 5  # the freed slot was reused
    with pytest.raises(ValueError):
        ColumnIndex(tmp_path, encoder, "another-model").search("db", "x")


def test_a_small_database_caches_only_the_slots_it_uses(
    tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]
) -> None:
    """One block of 512 slots holding six columns: the cache holds six columns' tokens, not 512."""
    index = ColumnIndex(tmp_path, encoder, "zero-shot", block_size=512)
    index.upsert("db", singer_docs)
    index.delete("db", [singer_docs[-1].key])  # a freed slot at the end is not scored either
    before = {h.key: h.score for h in index.search("db", "Which singers come from France?")}
    assert index.warm("db") == 1
    (block,) = index._cache.values()
    assert block.n <= len(singer_docs) and block.tokens.shape[1] == block.n * block.length
    assert set(before) == {d.key for d in singer_docs[:-1]}
    index.upsert("db", [singer_docs[-1]])  # the slot is filled again: the block is re-read, now longer
    after = {h.key: h.score for h in index.search("db", "Which singers come from France?")}
    assert set(after) == {d.key for d in singer_docs} and all(after[k] == pytest.approx(v) for k, v in before.items())


def test_coverage_is_late_interaction_with_the_whole_database(
    tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]
) -> None:
    index = ColumnIndex(tmp_path, encoder, "zero-shot", block_size=2)  # several blocks
    index.upsert("db", singer_docs)
    index.delete("db", [singer_docs[1].key])  # a freed slot does not count
    kept = [d for d in singer_docs if d.key != singer_docs[1].key]
    q = encoder.encode_questions(["Which singers come from France?"])
    # Coverage reads the tokens of content words only ("which" and "?" match every group about as well).
    assert q.content is not None and 0 < int(q.content.sum()) < int(q.mask.sum())
    words = encoder.tokenizer.convert_ids_to_tokens(encoder.tokenizer("Which singers come from France?")["input_ids"])
    kept_words = {w for w, keep in zip(words, q.content[0].tolist(), strict=False) if keep}
    assert {"come", "france"} <= kept_words and not kept_words & {"which", "from", "?"}
    content = TokenVectors(q.vectors, q.content)
    columns = encoder.encode_columns(kept)
    # The whole database as one document: every column's tokens side by side.
    everything = columns.vectors[columns.mask][None]
    whole = TokenVectors(everything, torch.ones(everything.shape[:2], dtype=torch.bool))
    as_one = normalise(late_interaction(content, whole), q.content)
    (scores,) = index.score("db", q)
    assert float(scores.coverage()[0]) == pytest.approx(float(as_one[0, 0]), abs=2e-3)
    # By groups of columns: each group as its own document; a group without columns covers nothing.
    groups = torch.tensor([0 if key.startswith("singer.") else 1 for key in scores.keys])
    singer = [d for d in kept if d.key.startswith("singer.")]
    on_singer = encoder.encode_columns(singer)
    singer_tokens = on_singer.vectors[on_singer.mask][None]
    singer_only = normalise(
        late_interaction(content, TokenVectors(singer_tokens, torch.ones(singer_tokens.shape[:2], dtype=torch.bool))),
        q.content,
    )
    by_group = scores.coverage(groups, 3)
    assert float(by_group[0]) == pytest.approx(float(singer_only[0, 0]), abs=2e-3)
    assert float(by_group[2]) == 0.0 and float(by_group.max()) == pytest.approx(float(scores.coverage()[0]), abs=1e-5)
    assert float(index.score("missing", q)[0].coverage()[0]) == 0.0
    tokenless = encoder.encode_questions(["\u0094"])  # nothing in it scores (schemathesis found it)
    assert int(tokenless.mask.sum()) == 0
    assert index.score("db", tokenless)[0].coverage(groups, 3).tolist() == [0.0, 0.0, 0.0]
    # A question of function words only is covered by all of its tokens rather than by none.
    bare = encoder.encode_questions(["What is it?"])
    assert bare.content is not None and int(bare.content.sum()) == 0
    (bare_scores,) = index.score("db", bare)
    assert bare_scores.per_token is not None and bare_scores.per_token.shape[0] == int(bare.mask.sum())


def test_a_subset_scores_only_its_columns(
    tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]
) -> None:
    index = ColumnIndex(tmp_path, encoder, "zero-shot")
    index.upsert("db", singer_docs)
    (scores,) = index.score("db", encoder.encode_questions(["Which singers come from France?"]))
    picked = [i for i, key in enumerate(scores.keys) if key.startswith("singer.")]
    part = scores.subset(picked)
    assert part.keys == [scores.keys[i] for i in picked] and part.tokens == scores.tokens
    assert part.normalised() == [scores.normalised()[i] for i in picked]
    assert float(part.coverage()[0]) == pytest.approx(
        float(scores.coverage(torch.tensor([0 if i in picked else 1 for i in range(len(scores.keys))]), 2)[0])
    )
    assert {s.key for s in part.ranked()} == set(part.keys)
