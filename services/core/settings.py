"""One settings object, read from the environment (and .env) once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Where the workspace, the governance store, the registry and the policy live."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    home: Path = Field(default=Path("var"), validation_alias="GOVERNANCE_HOME")
    database_url: str = Field(default="", validation_alias="GOVERNANCE_DATABASE_URL")
    mlflow_tracking_uri: str = Field(default="", validation_alias="MLFLOW_TRACKING_URI")
    mlflow_registry_uri: str = Field(default="", validation_alias="MLFLOW_REGISTRY_URI")
    policy_path: Path = Field(
        default=PROJECT_ROOT / "policy.toml", validation_alias="GOVERNANCE_POLICY"
    )
    # OIDC sign-in (st.login): roles by e-mail or "group:NAME", as JSON in the environment,
    # e.g. {"ana@bank.example": ["analyst"], "group:model-risk": ["validator"]}.
    oidc_role_map: dict[str, list[str]] = Field(default_factory=dict,
                                                validation_alias="GOVERNANCE_OIDC_ROLES")
    # A signed-in browser session ends after this many hours, whatever it does.
    session_hours: float = Field(default=8.0, gt=0, le=24 * 7,
                                 validation_alias="GOVERNANCE_SESSION_HOURS")
    # A folder of the organisation's own framework files (*.toml), shown beside the shipped
    # ones on the Controls screen and in evidence packs (services.governance.frameworks).
    frameworks_dir: Path | None = Field(default=None, validation_alias="GOVERNANCE_FRAMEWORKS_DIR")
    # The ingest API (`govern api`) refuses a request body larger than this with 413.
    api_max_body_mb: float = Field(default=5.0, gt=0, le=1024,
                                   validation_alias="GOVERNANCE_API_MAX_BODY_MB")

    @model_validator(mode="after")
    def _fill_workspace_defaults(self) -> Settings:
        # Embedded default: everything under the workspace folder.
        home = self.home.resolve()
        object.__setattr__(self, "home", home)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{home / 'governance.db'}")
        if not self.mlflow_tracking_uri:
            object.__setattr__(self, "mlflow_tracking_uri", f"sqlite:///{home / 'mlflow.db'}")
        if not self.mlflow_registry_uri:
            object.__setattr__(self, "mlflow_registry_uri", self.mlflow_tracking_uri)
        return self

    @property
    def artifact_root(self) -> Path:
        """Where locally created experiments keep their artifacts."""
        return self.home / "mlartifacts"


def load_settings() -> Settings:
    """Read the settings from the environment now (tests change it between cases)."""
    return Settings()


@lru_cache(maxsize=1)
def cached_settings() -> Settings:
    """The settings of a long-running process, read once."""
    return load_settings()
