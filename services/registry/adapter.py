"""The one adapter over the MLflow registry. MLflow objects never leave this module.

Pitfalls handled here: version searches return no aliases, versions are
ints from a SQL store and strings over REST, and MLflow 3 LoggedModels may carry params and
metrics that the version itself does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from services.core.errors import InvalidInput, NotFound, SourceUnavailable
from services.registry.loaded import LoadedModel, ModelFormat

# MLflow's HTTP retries and timeout are the owning process's to set, at its start
# (services.registry.transport), never here on import: a serving process imports this too.

HOLDOUT_DIR = "holdout"  # the governance contract: hold-out Parquet under this artifact folder
HOLDOUT_TAG = "governance.holdout"  # optional run tag naming the artifact path exactly
MODEL_KIND_TAG = "model_kind"  # "vendor": a model the organisation did not train (vendor.py)
VENDOR_KIND = "vendor"
_PAGE = 1000


@dataclass(frozen=True)
class ModelSummary:
    """A registered model as the inventory shows it."""

    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, str]  # alias -> version
    version_count: int
    latest_version: str | None
    last_updated: datetime | None

    @property
    def owner(self) -> str | None:
        return self.tags.get("owner")

    @property
    def risk_tier(self) -> str | None:
        return self.tags.get("risk_tier")

    @property
    def is_vendor(self) -> bool:
        """A vendor model: no artifact to load, replay or explain (services.registry.vendor)."""
        return self.tags.get(MODEL_KIND_TAG, "").strip().lower() == VENDOR_KIND


@dataclass(frozen=True)
class ModelVersionSummary:
    model_name: str
    version: str
    aliases: tuple[str, ...]
    status: str
    created_at: datetime | None
    run_id: str | None
    logged_model_id: str | None
    source: str
    description: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetInput:
    """A dataset logged with mlflow.log_input: its MLflow digest identifies, not proves."""

    name: str
    digest: str
    source_type: str
    context: str | None


@dataclass(frozen=True)
class Lineage:
    """Where a version came from: run, code, parameters, metrics, data."""

    model_name: str
    version: str
    run_id: str | None
    run_name: str | None
    experiment_id: str | None
    started_at: datetime | None
    user: str | None
    code_version: str | None
    params: dict[str, str]
    metrics: dict[str, float]
    datasets: tuple[DatasetInput, ...]
    holdout_artifact: str | None  # artifact path inside the run, e.g. holdout/holdout.parquet
    holdout_uri: str | None  # full URI MLflow can download from
    # Flavors, the one the console loads by, and the input signature; None: MLmodel unreadable.
    model_format: ModelFormat | None = None
    vendor_version: str | None = None  # a vendor model's version as the vendor numbers it


def _as_datetime(millis: int | None) -> datetime | None:
    if not millis:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).replace(tzinfo=None)


def _quoted(name: str) -> str:
    # MLflow filter strings take either quote; pick the one the name does not contain.
    return f'"{name}"' if "'" in name else f"'{name}'"


class Registry:
    """Read access to one MLflow registry, in the project's own types."""

    def __init__(self, tracking_uri: str, registry_uri: str | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri or tracking_uri
        self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=self.registry_uri)

    @contextmanager
    def _translated(self, subject: str = "") -> Iterator[None]:
        """Turn MLflow and transport errors into NotFound or SourceUnavailable."""
        try:
            yield
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise NotFound(f"{subject or 'That'} is not in the MLflow registry.") from exc
            raise self._unavailable(exc) from exc
        except (OSError, ConnectionError) as exc:
            raise self._unavailable(exc) from exc
        except Exception as exc:  # driver errors of MLflow's own SQL store
            if type(exc).__module__.startswith(("sqlalchemy", "requests", "urllib3")):
                raise self._unavailable(exc) from exc
            raise

    def _unavailable(self, exc: BaseException) -> SourceUnavailable:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        return SourceUnavailable(
            f"The MLflow registry at {self.registry_uri} cannot be reached: {first_line}",
            hint="Check MLFLOW_TRACKING_URI and that the tracking server is running.",
        )

    def ping(self) -> None:
        """Raise SourceUnavailable unless the registry answers."""
        with self._translated():
            self._client.search_registered_models(max_results=1)

    def list_models(self) -> list[ModelSummary]:
        """Every registered model with its tags, aliases and version count."""
        with self._translated():
            models = self._all_pages(self._client.search_registered_models)
            counts: dict[str, list[int]] = {}
            for mv in self._all_pages(self._client.search_model_versions):
                counts.setdefault(mv.name, []).append(int(mv.version))
        return sorted(
            (self._summary(m, counts.get(m.name, [])) for m in models), key=lambda s: s.name
        )

    def get_model(self, name: str) -> ModelSummary:
        with self._translated(f"Model {name!r}"):
            model = self._client.get_registered_model(name)
            versions = [int(v.version) for v in self._versions(name)]
        return self._summary(model, versions)

    def list_versions(self, name: str) -> list[ModelVersionSummary]:
        """All versions of a model, newest first, with their aliases filled in."""
        with self._translated(f"Model {name!r}"):
            aliases_by_version: dict[str, list[str]] = {}
            for alias, version in self._client.get_registered_model(name).aliases.items():
                aliases_by_version.setdefault(str(version), []).append(alias)
            versions = self._versions(name)
        summaries = [self._version(v, tuple(sorted(aliases_by_version.get(str(v.version), []))))
                     for v in versions]
        return sorted(summaries, key=lambda v: int(v.version), reverse=True)

    def get_version(self, name: str, version: str) -> ModelVersionSummary:
        """One version with its aliases (two registry calls, whatever the version count)."""
        mv = self._model_version(name, version)
        with self._translated(f"Version {version} of {name!r}"):
            aliases = self._client.get_registered_model(name).aliases or {}
        held = tuple(sorted(a for a, v in aliases.items() if str(v) == str(version)))
        return self._version(mv, held)

    def alias_holder(self, name: str, alias: str) -> str | None:
        """The version that holds the alias now, read from the registry itself."""
        with self._translated(f"Model {name!r}"):
            aliases = self._client.get_registered_model(name).aliases or {}
        holder = aliases.get(alias)
        return None if holder is None else str(holder)

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point the alias at the version: the one registry write the console makes."""
        with self._translated(f"Version {version} of {name!r}"):
            self._client.set_registered_model_alias(name, alias, str(version))

    def lineage(self, name: str, version: str) -> Lineage:
        """Run, code version, parameters, metrics, dataset inputs and hold-out of a version."""
        # Without its aliases (another registry read): lineage does not depend on them.
        mv = self._version(self._model_version(name, version), ())
        params: dict[str, str] = {}
        metrics: dict[str, float] = {}
        stored_at = None  # where the version's files are, when its LoggedModel says so
        with self._translated(f"Version {version} of {name!r}"):
            if mv.logged_model_id:
                logged = self._client.get_logged_model(mv.logged_model_id)
                params.update(logged.params or {})
                metrics.update({m.key: float(m.value) for m in logged.metrics or []})
                stored_at = logged.artifact_location
            run = self._client.get_run(mv.run_id) if mv.run_id else None
            holdout = self._find_holdout(run) if run else None
        model_format = self._format_or_none(name, version, stored_at)
        if run is None:
            return Lineage(name, mv.version, None, None, None, None, None,
                           mv.tags.get("code_version"), params, metrics, (), None, None,
                           model_format, mv.tags.get("vendor_version"))
        params = {**run.data.params, **params}
        metrics = {**run.data.metrics, **metrics}
        tags = run.data.tags
        datasets = tuple(
            DatasetInput(
                name=d.dataset.name,
                digest=d.dataset.digest,
                source_type=d.dataset.source_type,
                context=next((t.value for t in d.tags if t.key == "mlflow.data.context"), None),
            )
            for d in run.inputs.dataset_inputs
        )
        code_version = (tags.get("mlflow.source.git.commit") or tags.get("code_version")
                        or mv.tags.get("code_version"))
        return Lineage(
            model_name=name,
            version=mv.version,
            run_id=run.info.run_id,
            run_name=run.info.run_name,
            experiment_id=run.info.experiment_id,
            started_at=_as_datetime(run.info.start_time),
            user=run.info.user_id or None,
            code_version=code_version,
            params=params,
            metrics=metrics,
            datasets=datasets,
            holdout_artifact=holdout,
            holdout_uri=f"{run.info.artifact_uri.rstrip('/')}/{holdout}" if holdout else None,
            model_format=model_format,
            vendor_version=mv.tags.get("vendor_version"),
        )

    def download(self, artifact_uri: str) -> Path:
        """A local copy of an artifact (a file under the run's artifacts), read with our URIs."""
        with self._translated(f"The artifact {artifact_uri}"):
            return Path(mlflow.artifacts.download_artifacts(artifact_uri=artifact_uri,
                                                            tracking_uri=self.tracking_uri))

    def input_schema(self, name: str, version: str) -> dict[str, str]:
        """The version's input columns and their MLflow types (double, long, string, boolean,
        ...), from its own signature; {} when it has none."""
        return {i.name: i.type for i in self.model_format(name, version).inputs}

    def model_format(self, name: str, version: str) -> ModelFormat:
        """The version's flavors, the flavor the console loads it by, and its input signature,
        read from its MLmodel file. Raises InvalidInput when that file cannot be parsed;
        NotFound, SourceUnavailable as the registry answers."""
        return self._read_format(name, version, None)

    def _read_format(self, name: str, version: str, stored_at: str | None) -> ModelFormat:
        from services.registry.flavors import read_format

        with self._translated(f"Version {version} of {name!r}"):
            uri = stored_at or self._client.get_model_version_download_uri(name, str(version))
            mlmodel = f"{uri.rstrip('/')}/MLmodel"
            if mlmodel.startswith("file://") and Path(mlmodel.removeprefix("file://")).is_file():
                local = mlmodel.removeprefix("file://")  # a local store: read it where it is
            else:
                local = mlflow.artifacts.download_artifacts(artifact_uri=mlmodel,
                                                            tracking_uri=self.tracking_uri)
        try:
            return read_format(Path(local))
        except Exception as exc:  # an MLmodel file MLflow cannot parse
            raise InvalidInput(f"The MLmodel file of version {version} of {name!r} cannot be "
                               f"read: {(str(exc).splitlines() or [''])[0][:160]}",
                               hint="Register the model with an MLflow log_model call.") from exc

    def load_model(self, name: str, version: str) -> Any:
        """The exact version as a scikit-learn-compatible estimator (predict_proba, classes_;
        a Booster or custom pyfunc model wrapped as one), loaded by its flavor with this
        registry's URIs, never MLflow's process-wide ones (those may point elsewhere).

        Raises InvalidInput when its flavor is not one the console loads or loading fails."""
        return self.load_version(name, version).estimator

    def load_version(self, name: str, version: str,
                     positive_label: str | None = None) -> LoadedModel:
        """The exact version loaded by its flavor (sklearn, lightgbm, xgboost, or a custom
        pyfunc model), with its input signature; positive_label picks the predict_proba column
        that is the score (default: the second class).

        Raises InvalidInput when its flavor is not one the console loads or loading fails;
        NotFound, SourceUnavailable as the registry answers."""
        from services.registry.flavors import load_by_flavor, read_format

        with self._translated(f"Version {version} of {name!r}"):
            uri = self._client.get_model_version_download_uri(name, str(version))
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri,
                                                             tracking_uri=self.tracking_uri))
        try:
            fmt = read_format(local)
        except Exception as exc:  # no MLmodel file, or one MLflow cannot parse
            raise InvalidInput(
                f"Version {version} of {name!r} cannot be loaded: its MLmodel file cannot be "
                f"read ({str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__}).",
                hint="Register the model with an MLflow log_model call.") from exc
        if fmt.flavor is None and self.get_model(name).is_vendor:
            from services.registry.vendor import no_artifact

            raise InvalidInput(no_artifact(name, str(version)))
        return load_by_flavor(local, fmt, model_name=name, version=str(version),
                              positive_label=positive_label)

    # --- helpers -------------------------------------------------------------------------

    def _model_version(self, name: str, version: str) -> Any:
        if not str(version).isdigit():
            raise NotFound(f"Model {name!r} has no version {version}.")
        with self._translated(f"Version {version} of {name!r}"):
            return self._client.get_model_version(name, str(version))

    def _format_or_none(self, name: str, version: str,
                        stored_at: str | None) -> ModelFormat | None:
        try:
            return self._read_format(name, version, stored_at)
        except Exception:  # no MLmodel file, or one MLflow cannot parse: a gap, not a crash
            return None

    def _find_holdout(self, run: Any) -> str | None:
        named = run.data.tags.get(HOLDOUT_TAG)
        if named:
            return str(named)
        files = self._client.list_artifacts(run.info.run_id, HOLDOUT_DIR)
        parquet = sorted(f.path for f in files if not f.is_dir and f.path.endswith(".parquet"))
        return parquet[0] if parquet else None

    def _versions(self, name: str) -> list[Any]:
        return self._all_pages(self._client.search_model_versions,
                               filter_string=f"name={_quoted(name)}")

    @staticmethod
    def _all_pages(search: Any, **kwargs: Any) -> list[Any]:
        found: list[Any] = []
        token = None
        while True:
            page = search(max_results=_PAGE, page_token=token, **kwargs)
            found.extend(page)
            token = page.token
            if not token:
                return found

    @staticmethod
    def _summary(model: Any, versions: list[int]) -> ModelSummary:
        return ModelSummary(
            name=model.name,
            description=model.description or "",
            tags=dict(model.tags or {}),
            aliases={alias: str(v) for alias, v in (model.aliases or {}).items()},
            version_count=len(versions),
            latest_version=str(max(versions)) if versions else None,
            last_updated=_as_datetime(model.last_updated_timestamp),
        )

    @staticmethod
    def _version(mv: Any, aliases: tuple[str, ...]) -> ModelVersionSummary:
        source = mv.source or ""
        logged_model_id = getattr(mv, "model_id", None) or (
            source.removeprefix("models:/") if source.startswith("models:/m-") else None
        )
        return ModelVersionSummary(
            model_name=mv.name,
            version=str(mv.version),
            aliases=aliases,
            status=str(mv.status),
            created_at=_as_datetime(mv.creation_timestamp),
            run_id=mv.run_id or None,
            logged_model_id=logged_model_id,
            source=source,
            description=mv.description or "",
            tags=dict(mv.tags or {}),
        )
