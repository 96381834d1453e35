"""Service configuration, read from the environment (``SCHEMAKG_*`` plus the conventional names)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    # Job queue: Celery on Redis when REDIS_URL is set, else jobs run in-process.
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL"))

    # API
    admin_key: SecretStr | None = None  # bootstrap admin key; generated into the data dir when unset
    max_request_bytes: int = 1_048_576
    page_size_max: int = 500

    # Ingestion and value sampling bounds
    sample_row_budget: int = 5_000
    sample_top_values: int = 10
    sample_examples: int = 5
    sample_value_max_chars: int = 80
    source_query_timeout_s: float = 10.0
    source_connect_timeout_s: float = 5.0

    @property
    def graph_dir(self) -> Path:
        return self.data_dir / "graph"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
