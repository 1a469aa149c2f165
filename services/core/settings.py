"""One settings object, read from the environment (and .env) once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Webhook(BaseModel):
    """A receiver of signed notifications (services.notify.webhooks); `kinds` empty: all."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    url: str = Field(pattern=r"^https?://")
    # The receiver's shared secret for HMAC-SHA256; no default, and short ones are refused.
    secret: SecretStr
    kinds: list[str] = Field(default_factory=list)

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < 16:
            raise ValueError("a webhook's secret has at least 16 characters (32 random bytes, "
                             "hex-encoded, is usual)")
        return secret


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
    # Notifications (services.notify): e-mail through this SMTP server, unset: none is sent.
    smtp_host: str = Field(default="", validation_alias="GOVERNANCE_SMTP_HOST")
    smtp_port: int = Field(default=587, gt=0, lt=65536, validation_alias="GOVERNANCE_SMTP_PORT")
    smtp_tls: Literal["none", "starttls", "ssl"] = Field(default="starttls",
                                                        validation_alias="GOVERNANCE_SMTP_TLS")
    smtp_username: str = Field(default="", validation_alias="GOVERNANCE_SMTP_USERNAME")
    smtp_password: SecretStr = Field(default=SecretStr(""),
                                     validation_alias="GOVERNANCE_SMTP_PASSWORD")
    mail_from: str = Field(default="", validation_alias="GOVERNANCE_MAIL_FROM")
    # Signed webhooks as JSON: [{"name": ..., "url": ..., "secret": ..., "kinds": [...]}].
    webhooks: list[Webhook] = Field(default_factory=list, validation_alias="GOVERNANCE_WEBHOOKS")
    # Where people open the console, put before the page path in a message ("" : path only).
    console_url: str = Field(default="", validation_alias="GOVERNANCE_CONSOLE_URL")

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
        if self.smtp_host and "@" not in self.mail_from:
            raise ValueError("GOVERNANCE_SMTP_HOST is set but GOVERNANCE_MAIL_FROM is not an "
                             "address: name the sender of the console's e-mail.")
        if len({w.name for w in self.webhooks}) != len(self.webhooks):
            raise ValueError("GOVERNANCE_WEBHOOKS names a webhook twice: give each its own name.")
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
