"""Service configuration, read from the environment (``SCHEMAKG_*`` plus the conventional names)."""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def usable_cpus() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup (v2) CPU quota when a
    container sets one (``docker run --cpus 2`` on a 16-core host: 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = CGROUP_CPU_MAX.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):  # no cgroup v2 quota readable: the affinity stands
        pass
    return max(1, cores)


def default_threads() -> int:
    """Threads for one compute-heavy library (llama.cpp, torch): every usable core but one, at least one.
    The spare core is for the rest of the service (request threads, the graph engine): on a 2-core host,
    llama.cpp on 2 threads decoded 4 to 40 times slower while another process kept one core busy, on 1
    thread as fast as idle (docs/benchmarks.md, Threads)."""
    return max(1, usable_cpus() - 1)


# The schema an SQL prompt shows: the linked sub-schema; every table; the linked columns first, then every
# other one; or auto: every table when they fit the schema token budget, else the linked sub-schema.
SchemaView = Literal["linked", "full", "union", "auto"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEMAKG_", extra="ignore")

    data_dir: Path = Field(default=Path(".schemakg"))

    # Graph store: an external Neo4j when NEO4J_URI is set, else the embedded ArcadeDB server.
    neo4j_uri: str | None = Field(default=None, validation_alias=AliasChoices("NEO4J_URI"))
    neo4j_user: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "NEO4J_USERNAME"))
    neo4j_password: SecretStr | None = Field(default=None, validation_alias=AliasChoices("NEO4J_PASSWORD"))
    neo4j_database: str | None = Field(default=None, validation_alias=AliasChoices("NEO4J_DATABASE"))
    arcadedb_heap: str = "1g"
    arcadedb_start_timeout_s: float = 60.0
    # CPUs the engine's JVM sizes its thread pools and GC for (-XX:ActiveProcessorCount); 0: all it sees.
    arcadedb_cpus: int = Field(default=2, ge=0)

    # Job queue: Celery on Redis when REDIS_URL is set, else jobs run in-process.
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL"))
    # A task unacknowledged this long (its worker died) is delivered again; keep it above the longest job.
    celery_visibility_timeout_s: int = 3600
    job_max_retries: int = 3
    job_retry_backoff_s: float = 2.0
    # A running job writes a heartbeat every lease/4; one silent for a whole lease is no longer running.
    job_lease_s: float = Field(default=60.0, gt=0)

    # API
    admin_key: SecretStr | None = None  # bootstrap admin key; generated into the data dir when unset
    # A verified API key is trusted this long before the graph is asked again; a deleted key stops working
    # at once in the process that deleted it, and within this time in any other.
    api_key_cache_s: float = Field(default=1.0, ge=0)
    # Torch intra-op threads (question encoding, column scoring), set at start-up of the API, the worker and
    # the CLI. Default: cores - 1 (at least 1), leaving a core to the request threads and the graph engine.
    torch_threads: int = Field(default_factory=default_threads, ge=1)
    max_request_bytes: int = 1_048_576
    max_upload_bytes: int = 512 * 1_048_576

    # Knowledge completion: LLM proposals are applied at once when auto-approve is on.
    knowledge_auto_approve: bool = False
    knowledge_redundant_similarity: float = 0.85

    # Answering: generated SQL runs read-only with a timeout and a row cap.
    ask_row_cap: int = 200
    ask_timeout_s: float = 15.0
    ask_max_result_bytes: int = 2_000_000
    # Evidence generation (pipeline step 5). auto: on with an OpenAI-compatible endpoint, off with the
    # embedded small models, whose accuracy it lowered in the answering ablation (docs/evaluation.md).
    ask_evidence: Literal["auto", "on", "off"] = "auto"
    ask_schema_view: SchemaView = "linked"  # docs/evaluation.md compares the views
    # SQL candidates per question, chosen by agreement of their results (1: the greedy SQL alone). Each
    # extra one is one more decode of the same, cached prompt (docs/evaluation.md: the candidate curve).
    ask_candidates: int = Field(default=1, ge=1, le=8)
    ask_candidate_temperature: float = Field(default=0.7, gt=0, le=2)
    # An answer that still fails after its retries, or says nothing from tables that hold rows, gets up to this
    # many more samples, until one runs and says something.
    ask_rescue_samples: int = Field(default=4, ge=0, le=8)
    # An answer returning fewer columns than the attributes its question lists is asked for once more.
    ask_shape_check: bool = True
    # An answer reading tables of several subject areas that nothing relates is asked for once more, within one.
    ask_area_check: bool = True
    # Few-shot examples from the query log: the weight of masked-question similarity (DAIL-SQL) against plain
    # question similarity (0: the question alone; docs/evaluation.md measures it).
    ask_masked_example_weight: float = Field(default=0.7, ge=0, le=1)
    # On a large schema, examples reading only the subject areas linking focused on come first (neutral on the
    # warehouse's accuracy, docs/evaluation.md; it keeps one database's names out of another's prompt).
    ask_examples_from_focus: bool = True

    # Linking: value matching over sampled values adds matched columns and literal hints.
    value_matching: bool = True
    # Every linked table also shows its primary key (off: docs/evaluation.md, linking ablation).
    linking_primary_keys: bool = False
    index_cache_mb: int = 768  # column-index blocks kept in memory (10,000 columns ≈ 490 MB)
    # Concurrent questions are encoded and scored together: one worker serves, in one batch, every question
    # that queued while it was busy (up to the size), after waiting this long for more (0: no wait).
    retrieval_batch_wait_ms: float = Field(default=0.0, ge=0)
    retrieval_max_batch: int = Field(default=16, ge=1)
    # Threads scoring different databases' indexes for one batch at once (each with one torch thread).
    retrieval_scoring_threads: int = Field(default=2, ge=1, le=64)
    # Large schemas: only columns in the subject areas (join-graph regions joined by namespace) within this
    # coverage margin of the best (2: all).
    linking_region_margin: float = Field(default=0.06, ge=0)
    # Within those areas, the best-covering tables only: this many of the best area, half as many of each other
    # (a large number: all their tables).
    linking_area_tables: int = Field(default=4, ge=1)
    # Of those, and of a smaller schema (not split into areas), only the tables covering the question within this
    # margin of the best table's (a large number: no margin); of a smaller schema at most this many.
    linking_table_margin: float = Field(default=0.4, ge=0)
    linking_schema_tables: int = Field(default=8, ge=1)
    # A column name the question or its evidence spells exactly (snake_case, camelCase) adds this much to the
    # coverage of the areas that hold it, and is linked (0: neither).
    linking_identifier_weight: float = Field(default=0.05, ge=0)
    # Routing: a value the question quotes or capitalises ("the pilot 'Thompson'", "Linda Smith") that only some
    # databases hold among their sampled values adds this much to their coverage, shared among them (0: off).
    routing_literal_value_weight: float = Field(default=0.1, ge=0)
    # ... and a database whose sampled values hold none of them loses this much times the share of its text columns
    # sampled in full (a value missing from a full value list is missing from the database; 0: off).
    routing_literal_absence_weight: float = Field(default=0.15, ge=0)
    # A query log reorders the best routes and a large schema's best subject areas that it covers, by their score
    # plus this times how far the question's best similarity to their logged questions rises above
    # question_log.NEAR (a near paraphrase); databases and areas it does not cover keep their places (0: the log is
    # not read). Chosen on the validation tuning databases (docs/evaluation.md).
    linking_log_weight: float = Field(default=5.0, ge=0)
    # The area reranker (a cross-encoder) rescores this many best-covering databases when routing, and subject
    # areas of a large schema when focusing, keeping those within the margin of the best (below 2: off, coverage
    # alone). Routing gained 0.03 recall@1 from it; focusing nothing measurable, so that is off.
    routing_rerank_databases: int = Field(default=4, ge=0, le=16)
    linking_rerank_areas: int = Field(default=0, ge=0, le=16)
    linking_rerank_margin: float = Field(default=5.0, ge=0)
    # More linked tables than this are joined by one Steiner tree instead of every pair's paths (unset: never).
    linking_steiner_above: int | None = Field(default=None, ge=1)
    # SchemaGraphSQL's optional LLM call naming source/destination tables: off, merge or replace.
    linking_table_picker: Literal["off", "merge", "replace"] = "off"

    # Ingestion and value sampling bounds
    sample_row_budget: int = 5_000
    sample_top_values: int = 10
    sample_examples: int = 5
    sample_value_max_chars: int = 80
    sample_match_values: int = 100
    source_query_timeout_s: float = 10.0
    source_connect_timeout_s: float = 5.0
    # Directories SQLite sources may be registered from (JSON list); unset: anywhere readable.
    sqlite_roots: list[Path] | None = None

    # LLM: an OpenAI-compatible endpoint when OPENAI_BASE_URL is set (or llm_backend is "openai"),
    # else the embedded GGUF model run in-process by llama.cpp.
    llm_backend: Literal["auto", "openai", "llama"] = "auto"
    llm_model: str = "qwen2.5-coder-1.5b"  # embedded model: qwen2.5-coder-1.5b (README: why) or qwen2.5-coder-0.5b
    llm_model_path: Path | None = None  # a GGUF to run instead of the one built from the packaged parts
    llm_timeout_s: float = 60.0
    llm_max_retries: int = Field(default=2, ge=0)
    llm_threads: int = Field(default_factory=default_threads, ge=1)  # llama.cpp threads; default: cores - 1
    # llama.cpp threads for prompt processing (prefill), which dominates an answer on a CPU. Its large batches
    # use every core well and lose little when another process takes one, unlike token-by-token decoding
    # (docs/benchmarks.md, Threads). Default: every usable core.
    llm_batch_threads: int = Field(default_factory=usable_cpus, ge=1)
    llm_context: int = Field(default=4096, ge=256)
    llm_seed: int = 0
    llm_prompt_cache_mb: int = Field(default=512, ge=0)  # KV states of earlier prompts kept for prefix reuse
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_model: str | None = None  # unset: the first model the endpoint lists

    @property
    def graph_dir(self) -> Path:
        return self.data_dir / "graph"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def llm_models_dir(self) -> Path:
        return self.data_dir / "models" / "llm"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
