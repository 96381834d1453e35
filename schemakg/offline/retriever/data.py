"""Training and validation questions: sources, gold columns from SQL, column docs, split by database."""

from __future__ import annotations

import hashlib
import json
import math
import random
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel

from schemakg.kernel.model import column_ref
from schemakg.kernel.sql.links import SqlParseError
from schemakg.offline.retriever.gold import gold_links
from schemakg.offline.retriever.schema import DbSchema, docs_for, load_schemas
from schemakg.retrieval.column_docs import ColumnDoc, question_text


class QAPair(BaseModel):
    """A (question, SQL, database) pair as any source supplies it; evidence is appended to the question."""

    question: str
    sql: str
    db_id: str
    evidence: str = ""

    @property
    def text(self) -> str:
        return question_text(self.question, self.evidence)


class LabelledQuestion(BaseModel):
    """A question with the gold columns (``table.column`` keys) its SQL uses."""

    source: str
    corpus: str
    db_id: str
    question: str
    columns: list[str]
    tables: list[str]

    @property
    def db_key(self) -> str:
        """Databases are namespaced by corpus: Spider and BIRD could reuse a db_id."""
        return f"{self.corpus}:{self.db_id}"


class QuestionSource(ABC):
    """Port for where (question, SQL) pairs come from: benchmark files now, query logs later."""

    name: str
    corpus: str  # sources over the same databases share a corpus name (and so the db split)

    @abstractmethod
    def pairs(self) -> Iterable[QAPair]:
        """The raw pairs."""

    @abstractmethod
    def schemas(self) -> dict[str, DbSchema]:
        """Schemas of every database the pairs refer to."""

    def db_dir(self) -> Path | None:
        """Folder of ``<db_id>/<db_id>.sqlite`` files for example values; None when there are none."""
        return None

    def inputs(self) -> list[Path]:
        """The files the source reads, so a missing one is named before a run starts; none for pairs in memory."""
        return []


@lru_cache(maxsize=8)
def _schemas(path: Path) -> dict[str, DbSchema]:
    return load_schemas(path)


class SpiderTrain(QuestionSource):
    """Spider 1.0 train: ``train_spider.json`` + ``train_others.json``, with SQLite databases."""

    name = "spider-train"
    corpus = "spider"

    def __init__(self, root: Path) -> None:
        self.root = root / "spider-train"

    def pairs(self) -> Iterable[QAPair]:
        for file in ("train_spider.json", "train_others.json"):
            for row in json.loads((self.root / file).read_text()):
                yield QAPair(question=row["question"], sql=row["query"], db_id=row["db_id"])

    def schemas(self) -> dict[str, DbSchema]:
        return _schemas(self.root / "tables.json")

    def db_dir(self) -> Path | None:
        return self.root / "database"

    def inputs(self) -> list[Path]:
        return [self.root / "train_spider.json", self.root / "train_others.json", self.root / "tables.json"]


class SpiderSynTrain(SpiderTrain):
    """Spider-Syn: the Spider train questions with schema words replaced by synonyms."""

    name = "spider-syn-train"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.syn = root / "spider-syn-train" / "train_spider.json"

    def pairs(self) -> Iterable[QAPair]:
        for row in json.loads(self.syn.read_text()):
            yield QAPair(question=row["SpiderSynQuestion"], sql=row["query"], db_id=row["db_id"])

    def inputs(self) -> list[Path]:
        return [self.syn, self.root / "tables.json"]


class BirdTrain(QuestionSource):
    """BIRD train with evidence appended; rows whose SQL names absent schema elements are dropped."""

    name = "bird-train"
    corpus = "bird"

    def __init__(self, root: Path) -> None:
        self.root = root / "bird-train"

    def pairs(self) -> Iterable[QAPair]:
        mismatched = {r["index"] for r in json.loads((self.root / "train_schema_mismatch.json").read_text())}
        for i, row in enumerate(json.loads((self.root / "train.json").read_text())):
            if i not in mismatched:
                yield QAPair(
                    question=row["question"], sql=row["SQL"], db_id=row["db_id"], evidence=row.get("evidence", "")
                )

    def schemas(self) -> dict[str, DbSchema]:
        return _schemas(self.root / "train_tables.json")

    def inputs(self) -> list[Path]:
        return [self.root / name for name in ("train.json", "train_schema_mismatch.json", "train_tables.json")]


class QueryLogSource(QuestionSource):
    """Extra pairs, e.g. from an ingested query log, over schemas the caller provides."""

    def __init__(
        self,
        name: str,
        pairs: Sequence[QAPair],
        schemas: dict[str, DbSchema],
        db_dir: Path | None = None,
        corpus: str | None = None,
    ) -> None:
        self.name = name
        self.corpus = corpus or name
        self._pairs = list(pairs)
        self._schemas = schemas
        self._db_dir = db_dir

    def pairs(self) -> Iterable[QAPair]:
        return iter(self._pairs)

    def schemas(self) -> dict[str, DbSchema]:
        return self._schemas

    def db_dir(self) -> Path | None:
        return self._db_dir


BUILTIN_SOURCES: dict[str, Callable[[Path], QuestionSource]] = {
    SpiderTrain.name: SpiderTrain,
    BirdTrain.name: BirdTrain,
    SpiderSynTrain.name: SpiderSynTrain,
}


def builtin_sources(names: Sequence[str], corpus_dir: Path) -> list[QuestionSource]:
    """Instantiate the named benchmark sources over ``corpus_dir`` (the shared data folder)."""
    unknown = set(names) - set(BUILTIN_SOURCES)
    if unknown:
        raise ValueError(f"unknown sources {sorted(unknown)}; known: {sorted(BUILTIN_SOURCES)}")
    return [BUILTIN_SOURCES[n](corpus_dir) for n in names]


GOLD_RULES_VERSION = 1  # bump when schemakg.offline.retriever.gold changes: cached labels are keyed by it


def label(source: QuestionSource, cache_dir: Path | None = None) -> list[LabelledQuestion]:
    """Gold links for every pair; pairs whose SQL does not parse or names unknown schema elements are dropped.

    sqlglot takes ~1 minute for the benchmark sets on a busy CPU, so results are cached under
    ``cache_dir`` keyed by the pairs, the schemas and the rules version.
    """
    pairs = list(source.pairs())
    schemas = source.schemas()
    path = None
    if cache_dir is not None:
        payload = [
            GOLD_RULES_VERSION,
            source.name,
            source.corpus,
            [p.model_dump() for p in pairs],
            {k: v.model_dump() for k, v in sorted(schemas.items())},
        ]
        digest = hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
        path = cache_dir / f"labels-{source.name}-{digest}.json"
        if path.exists():
            return [LabelledQuestion.model_validate(x) for x in json.loads(path.read_text())]
    out: list[LabelledQuestion] = []
    for pair in pairs:
        schema = schemas.get(pair.db_id)
        if schema is None:
            continue
        try:
            links = gold_links(pair.sql, schema)
        except SqlParseError:
            continue
        if links.unresolved:
            continue
        out.append(
            LabelledQuestion(
                source=source.name,
                corpus=source.corpus,
                db_id=pair.db_id,
                question=pair.text,
                columns=[column_ref(t, c) for t, c in links.columns],
                tables=links.tables,
            )
        )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([q.model_dump() for q in out]))
    return out


def column_docs_by_db(sources: Sequence[QuestionSource], example_values: int = 3) -> dict[str, list[ColumnDoc]]:
    """Column docs per ``corpus:db_id``, with example values sampled where databases exist."""
    docs: dict[str, list[ColumnDoc]] = {}
    for source in sources:
        for db_id, schema in source.schemas().items():
            key = f"{source.corpus}:{db_id}"
            if key not in docs:
                docs[key] = docs_for(schema, source.db_dir(), example_values)
    return docs


def split_by_database(
    questions: Sequence[LabelledQuestion], val_fraction: float, seed: int
) -> tuple[list[LabelledQuestion], list[LabelledQuestion]]:
    """Deterministic split of each corpus's databases; no database has questions on both sides."""
    dbs_by_corpus: dict[str, set[str]] = defaultdict(set)
    for q in questions:
        dbs_by_corpus[q.corpus].add(q.db_key)
    val_dbs: set[str] = set()
    for corpus in sorted(dbs_by_corpus):
        dbs = sorted(dbs_by_corpus[corpus])
        random.Random(f"{seed}:{corpus}").shuffle(dbs)
        val_dbs.update(dbs[: math.ceil(val_fraction * len(dbs))])
    train = [q for q in questions if q.db_key not in val_dbs]
    val = [q for q in questions if q.db_key in val_dbs]
    return train, val


def subsample(questions: Sequence[LabelledQuestion], limit: int | None, seed: int) -> list[LabelledQuestion]:
    """A seeded random subset (order kept) so short runs still see every source and database mix."""
    if limit is None or limit >= len(questions):
        return list(questions)
    keep = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in keep]


def validation_split(
    sources: Sequence[QuestionSource],
    val_fraction: float,
    seed: int,
    cache_dir: Path | None = None,
    example_values: int = 3,
) -> tuple[list[LabelledQuestion], dict[str, list[ColumnDoc]]]:
    """The by-database validation questions (with gold columns) of a training configuration, and their docs."""
    labelled = [q for s in sources for q in label(s, cache_dir)]
    _, val = split_by_database(labelled, val_fraction, seed)
    return [q for q in val if q.columns], column_docs_by_db(sources, example_values)
