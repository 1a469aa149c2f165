"""Which bin each of many values falls in, exactly as `np.searchsorted(edges, values,
side="right")` says, about twice as fast for the million-value columns drift is computed on.

A binary search per value costs seven unpredictable comparisons for a hundred edges. Instead,
each value's cell on a uniform grid over the edges gives a first guess that is never too
high, and a fixed number of vectorised steps (the most edges any three neighbouring cells
hold, usually one) moves every guess up to the answer. Edges crowded into a few cells (a
far outlier stretching the grid) make that number large: those go back to the binary search.
"""

from __future__ import annotations

import numpy as np

GRID = 1 << 14  # cells over [first edge, last edge]
MIN_VALUES = 50_000  # below this the binary search is as fast
MAX_STEPS = 4  # more edges than this within three cells: binary search instead


def bin_index(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """np.searchsorted(edges, values, side="right"), for sorted, distinct, finite edges."""
    edges = np.asarray(edges, dtype=float)
    values = np.asarray(values, dtype=float)
    n = edges.size
    if values.size < MIN_VALUES or n < 2:
        return np.searchsorted(edges, values, side="right")
    low, high = float(edges[0]), float(edges[-1])
    scale = GRID / (high - low)
    if not np.isfinite(scale) or scale <= 0:
        return np.searchsorted(edges, values, side="right")
    edge_cells = np.minimum(((edges - low) * scale).astype(np.int64), GRID - 1)
    per_cell = np.bincount(edge_cells, minlength=GRID)
    crowded = np.convolve(per_cell, np.ones(3, dtype=np.int64), mode="same").max()
    if crowded > MAX_STEPS:
        return np.searchsorted(edges, values, side="right")
    # Guess for a cell: the edges at or below the start of the cell two before it. A value
    # lies at or above that point (rounding moves a value by far less than a cell), so the
    # guess never passes its answer; the steps below close the gap of at most `crowded`.
    starts = low + (np.arange(GRID + 1) - 2) / scale
    guess = np.searchsorted(edges, starts, side="right")
    cells = np.clip((values - low) * scale, 0, GRID)  # NaN stays NaN
    nan = np.isnan(cells)
    cells[nan] = GRID
    index = guess[cells.astype(np.int64)]
    bounded = np.append(edges, np.inf)
    for _ in range(int(crowded) + 1):
        index += (values >= bounded[index]) & (index < n)
    index[nan] = n  # searchsorted sorts NaN after every edge
    return index
