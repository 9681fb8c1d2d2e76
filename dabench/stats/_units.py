"""Resampling units of a paired comparison, compressed to their distinct rows.

A paired comparison resamples *units*: examples, or clusters when the task has a cluster key.
For a decomposable metric a unit is its summed statistics under each model, and many units are
identical (a 13-class confusion row is one of at most 13³ (reference, base, adapted) triples).
Drawing G units with replacement is, in distribution, drawing multinomial counts over the
distinct unit *types* in proportion to their multiplicities: the same distribution at a cost
of ``O(B·T)`` instead of ``O(B·G)``.

Non-decomposable metrics (Spearman) are scored by :meth:`Metric.score_resamples` on per-row
counts: without clusters the rows are the distinct example rows (a repeated row is a count on
it), with clusters the examples, each pointing at its cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

import numpy as np
from scipy import sparse

from dabench.errors import PairingError
from dabench.metrics.base import Metric

#: at most this many float64 elements in one temporary block (32 MiB)
BLOCK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class Units:
    """Distinct paired unit types of one comparison (see module docstring)."""

    metric: Metric
    #: rows scored by the metric under each model, ``(R, k)``
    base: np.ndarray
    adapted: np.ndarray
    #: number of resampling units G (examples, or clusters)
    n_units: int
    #: number of examples n
    n_examples: int
    #: type index of every unit, ``(G,)`` (unit order: examples as given, clusters by first appearance)
    type_of_unit: np.ndarray
    #: number of units of each type, ``(T,)``, sums to G
    mult: np.ndarray
    #: type of every row when rows are examples inside clusters (non-decomposable metric with
    #: clusters); None when rows are the types themselves (R == T)
    row_type: np.ndarray | None
    #: True for types whose rows differ between the two models (only these can be swapped)
    discordant: np.ndarray
    #: True when the units are clusters given by the caller
    clustered: bool = False
    #: derived in ``__post_init__``: the discordant types' indices (in type order), the base rows for
    #: products with counts, and ``adapted − base`` on the discordant types ``(Td, k)``; the two
    #: matrices are sparse (CSR) when mostly zeros, as confusion-cell statistics are
    discordant_index: np.ndarray = field(init=False, repr=False, compare=False)
    base_matrix: np.ndarray | sparse.csr_matrix = field(init=False, repr=False, compare=False)
    diff: np.ndarray | sparse.csr_matrix = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        disc = np.flatnonzero(self.discordant)
        object.__setattr__(self, "discordant_index", disc)
        object.__setattr__(self, "base_matrix", _maybe_sparse(self.base))
        object.__setattr__(self, "diff", _maybe_sparse(self.adapted[disc] - self.base[disc]))

    @property
    def n_types(self) -> int:
        return int(self.mult.shape[0])

    @property
    def decomposable(self) -> bool:
        return bool(self.metric.decomposable)

    def row_counts(self, type_counts: np.ndarray) -> np.ndarray:
        """Per-row counts from per-type counts ``(b, T) -> (b, R)``."""
        if self.row_type is None:
            return type_counts
        return type_counts[:, self.row_type]


def _maybe_sparse(a: np.ndarray) -> np.ndarray | sparse.csr_matrix:
    """CSR when at most 5% of the entries are non-zero (a dense-by-sparse product is then
    several times faster than BLAS on the dense matrix), else the array itself."""
    if a.size >= 4096 and np.count_nonzero(a) <= 0.05 * a.size:
        return sparse.csr_matrix(a)
    return a


def as_stats(stats: Any, what: str) -> np.ndarray:
    """A finite float64 ``(n, k)`` array, or a one-line error naming ``what``."""
    arr = np.asarray(stats, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{what}: expected per-example statistics of shape (n, k), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what}: statistics contain NaN or infinity")
    return arr


def factorize(keys: Sequence[Hashable]) -> tuple[np.ndarray, int]:
    """Integer codes of ``keys`` in order of first appearance, and the number of distinct keys."""
    table: dict[Hashable, int] = {}
    codes = np.fromiter((table.setdefault(_hashable(k), len(table)) for k in keys), dtype=np.int64)
    return codes, len(table)


def _hashable(key: Any) -> Hashable:
    if isinstance(key, np.generic):
        return key.item()
    if isinstance(key, list):
        return tuple(key)
    return key


def distinct_rows(*arrays: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group the rows of several aligned ``(n, k_i)`` arrays that are identical in all of them.

    Returns ``(first, inverse, counts)``: the index of one representative row per group, the
    group of every row, and the group sizes. Rows are keyed by fixed random projections, then
    every group is verified against its representative; if a projection ever merged two
    different rows, the exact (slower) ``np.unique`` over the rows themselves is used.
    """
    n = arrays[0].shape[0]
    proj = np.random.default_rng(0x5EED5EED)
    # two independent random projections of the concatenated rows, as one complex key
    # (numpy sorts complex numbers lexicographically, much faster than rows as records)
    key = np.zeros(n, dtype=np.complex128)
    for a in arrays:
        r = proj.standard_normal((a.shape[1], 2))
        xy = a @ r
        key += xy[:, 0] + 1j * xy[:, 1]
    _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    if all(_rows_equal(a, a[first], inverse) for a in arrays):
        return first, inverse, counts
    _, first, inverse, counts = np.unique(
        np.hstack(arrays), axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    return first, inverse.reshape(-1), counts


def _rows_equal(a: np.ndarray, reps: np.ndarray, inverse: np.ndarray) -> bool:
    step = max(1, BLOCK_ELEMENTS // max(1, a.shape[1]))
    return all(np.array_equal(a[lo : lo + step], reps[inverse[lo : lo + step]]) for lo in range(0, a.shape[0], step))


def cluster_sums(stats: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Statistics summed within each cluster, ``(G, k)``."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, np.arange(n_clusters))
    return np.add.reduceat(stats[order], starts, axis=0)


def build_units(
    metric: Metric,
    base_stats: Any,
    adapted_stats: Any,
    clusters: Sequence[Hashable] | None = None,
    condition: bool = True,
) -> Units:
    """Units of the comparison of ``adapted_stats`` against ``base_stats`` on the same examples
    (``condition=False``: the statistics are used as given, not through :meth:`Metric.condition`)."""
    base = as_stats(base_stats, "base statistics")
    adapted = as_stats(adapted_stats, "adapted statistics")
    if condition:
        base, adapted = metric.condition(base), metric.condition(adapted)
    if base.shape != adapted.shape:
        raise PairingError(
            f"base and adapted statistics differ in shape ({base.shape} vs {adapted.shape}); "
            "pair both runs on the same example ids first"
        )
    n = base.shape[0]
    if n == 0:
        raise PairingError("no paired examples to compare")
    if clusters is not None:
        if len(clusters) != n:
            raise PairingError(f"clusters has {len(clusters)} entries for {n} examples")
        missing = [i for i, c in enumerate(clusters) if c is None]
        if len(missing) == n:
            clusters = None  # no example has a cluster key: resample examples
        elif missing:
            raise PairingError(
                f"{len(missing)} of {n} examples have no cluster key (first: example {missing[0]}); "
                "give every example a cluster or none"
            )
    row_type: np.ndarray | None = None
    if clusters is not None and not metric.decomposable:
        # the rows stay examples; each cluster is one type, drawn with all its rows
        row_type, n_units = factorize(clusters)
        tb, ta, inverse, mult = base, adapted, np.arange(n_units), np.ones(n_units, dtype=np.int64)
        discordant = np.zeros(n_units, dtype=bool)
        np.logical_or.at(discordant, row_type, (base != adapted).any(axis=1))
    else:
        unit_base, unit_adapted, n_units = base, adapted, n
        if clusters is not None:
            codes, n_units = factorize(clusters)
            unit_base, unit_adapted = cluster_sums(base, codes, n_units), cluster_sums(adapted, codes, n_units)
        first, inverse, counts = distinct_rows(unit_base, unit_adapted)
        # types in order of decreasing multiplicity (ties: key order), so that the frequent types
        # drawn by the multinomial and the rare ones drawn by index are contiguous column blocks
        order = np.argsort(-counts, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0])
        first, mult, inverse = first[order], counts[order].astype(np.int64), rank[inverse]
        tb, ta = unit_base[first], unit_adapted[first]
        discordant = (tb != ta).any(axis=1)
    return Units(metric=metric, base=tb, adapted=ta, n_units=n_units, n_examples=n, type_of_unit=inverse, mult=mult,
                 row_type=row_type, discordant=discordant, clustered=clusters is not None)
