"""Loading a downloaded MLflow model by its flavor. The adapter downloads; this reads the MLmodel
file and loads, returning plain library objects (never an MLflow object): a scikit-learn
estimator, a LightGBM or XGBoost model, or a ProbabilityClassifier around a Booster or a custom
pyfunc model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from services.core.errors import InvalidInput
from services.registry.loaded import (
    Flavor,
    LoadedModel,
    ModelFormat,
    ModelInput,
    ProbabilityClassifier,
    positive_index,
)

_CUSTOM_PYFUNC = "mlflow.pyfunc.model"  # the loader module of a logged PythonModel


def read_format(model_dir: Path) -> ModelFormat:
    """The flavors, the flavor the console loads by and the input signature of a model folder
    (or of its MLmodel file)."""
    model = mlflow.models.Model.load(str(model_dir))
    flavors = dict(model.flavors or {})
    inputs: tuple[ModelInput, ...] = ()
    signature = model.signature
    if signature is not None and signature.inputs is not None:
        try:
            inputs = tuple(ModelInput(str(c.name), str(c.type).rsplit(".", 1)[-1])
                           for c in signature.inputs.inputs)
        except AttributeError:  # a tensor signature: no named columns
            inputs = ()
    return ModelFormat(tuple(sorted(flavors)), _flavor(flavors), inputs)


def _flavor(flavors: dict[str, Any]) -> Flavor | None:
    for flavor in (Flavor.SKLEARN, Flavor.LIGHTGBM, Flavor.XGBOOST):
        if flavor.value in flavors:
            return flavor
    generic = flavors.get("python_function") or {}
    if generic.get("loader_module") == _CUSTOM_PYFUNC:
        return Flavor.PYFUNC
    return None


def load_by_flavor(model_dir: Path, fmt: ModelFormat, *, model_name: str, version: str,
                   positive_label: str | None) -> LoadedModel:
    """The version loaded by its flavor. Raises InvalidInput naming the flavor when the
    console cannot load it, or what went wrong when loading failed."""
    if fmt.flavor is None:
        raise InvalidInput(f"Version {version} of {model_name!r} cannot be loaded: "
                           f"{fmt.flavor_problem}.",
                           hint="Register it again with a supported flavor (README: supported "
                                "flavors).")
    names = [i.name for i in fmt.inputs]
    try:
        native, estimator = _load(model_dir, fmt.flavor, names)
    except ImportError as exc:
        raise InvalidInput(f"Version {version} of {model_name!r} cannot be loaded: the "
                           f"{fmt.flavor} flavor needs {exc.name or 'a package'}, which is not "
                           "installed.", hint="Install the console's dependencies "
                                              "(make install).") from exc
    except Exception as exc:  # any deserialisation failure, in whatever library
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InvalidInput(
            f"Version {version} of {model_name!r} cannot be loaded as a {fmt.flavor} model: "
            f"{first}",
            hint="Log the model with mlflow.sklearn, mlflow.lightgbm, mlflow.xgboost or as an "
                 "mlflow.pyfunc.PythonModel (see the README's contract).") from exc
    classes = getattr(estimator, "classes_", None)
    return LoadedModel(model_name, str(version), fmt.flavor, fmt.inputs, estimator, native,
                       positive_index(classes, positive_label))


def _load(model_dir: Path, flavor: Flavor, names: list[str]) -> tuple[Any, Any]:
    """(what the flavor loads, a scikit-learn-compatible estimator over it)."""
    local = str(model_dir)
    if flavor is Flavor.SKLEARN:
        model = mlflow.sklearn.load_model(local)
        return model, model
    if flavor is Flavor.LIGHTGBM:
        model = mlflow.lightgbm.load_model(local)
        if hasattr(model, "predict_proba"):
            return model, model
        booster = model
        return booster, ProbabilityClassifier(lambda frame: booster.predict(frame), names)
    if flavor is Flavor.XGBOOST:
        model = mlflow.xgboost.load_model(local)
        if hasattr(model, "predict_proba"):
            return model, model
        import xgboost

        xgb_booster = model
        return xgb_booster, ProbabilityClassifier(
            lambda frame: xgb_booster.predict(xgboost.DMatrix(frame)), names)
    pyfunc = mlflow.pyfunc.load_model(local)
    return None, ProbabilityClassifier(lambda frame: _pyfunc_output(pyfunc.predict(frame)),
                                       names)


def _pyfunc_output(output: Any) -> Any:
    if isinstance(output, pd.DataFrame) and output.shape[1] == 1:
        return output.iloc[:, 0].to_numpy()
    return output
