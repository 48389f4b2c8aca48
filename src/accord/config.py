"""Settings from the environment (prefix ``ACCORD_``); the embedded defaults need nothing else."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    data_dir: Path = Field(
        default=Path("accord-data"), description="Where the embedded database and media live."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite in data_dir."
    )
    redis_url: str | None = Field(
        default=None, description="Run background jobs on RQ through this Redis."
    )
    rq_queue: str = Field(default="accord", description="The RQ queue jobs go to.")
    storage: str = Field(default="local", description="Media storage backend: local or s3.")
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    guideline_image_max_bytes: int = Field(
        default=5 * 1024 * 1024, description="The largest guideline image a manager may upload."
    )
    session_hours: float = 24.0 * 7
    secure_cookies: bool = False
    default_lease_seconds: int = 1800
    quality_check_seconds: float = Field(
        default=60.0,
        description="How often the server looks for projects due a quality run (0: never).",
    )
    sqlite_synchronous: str = Field(
        default="FULL", description="FULL: an acknowledged write survives a power cut."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'accord.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
