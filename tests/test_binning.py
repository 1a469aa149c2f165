"""The grid binning gives exactly what numpy's binary search gives, on awkward data too."""

from __future__ import annotations

import numpy as np
import pytest

from services.evidence.binning import bin_index


@pytest.mark.parametrize("case", ["normal", "lognormal", "integers", "outlier-edge",
                                  "specials", "values-on-edges"])
def test_the_grid_agrees_with_searchsorted(case: str) -> None:
    rng = np.random.default_rng(7)
    values = {"normal": rng.normal(0, 3, 200_000),
              "lognormal": rng.lognormal(1, 1.5, 200_000),
              "integers": rng.integers(0, 12, 200_000).astype(float),
              "outlier-edge": rng.normal(0, 1, 200_000),
              "specials": np.concatenate([rng.normal(0, 1, 199_990),
                                          [np.nan, np.inf, -np.inf, 1e300, -1e300, 0.0,
                                           -0.0, np.nan, 5e-324, -5e-324]]),
              "values-on-edges": rng.normal(0, 1, 200_000)}[case]
    edges = np.unique(np.quantile(values[np.isfinite(values)], np.linspace(0, 1, 101)[1:-1]))
    if case == "outlier-edge":
        edges = np.append(edges, 1e9)  # crowds the grid: falls back, still exact
    if case == "values-on-edges":
        values[:50_000] = rng.choice(edges, 50_000)
        values[50_000:60_000] = np.nextafter(rng.choice(edges, 10_000), -np.inf)
    assert np.array_equal(bin_index(edges, values),
                          np.searchsorted(edges, values, side="right"))
