"""Vectorised scoring of resamples and the random draws behind them.

Everything here works on :class:`~dabench.stats._units.Units` and processes resamples in
blocks so that no temporary exceeds a few tens of MiB, whatever n and B are.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from dabench.stats._units import BLOCK_ELEMENTS, Units

_HAS_BITCOUNT = hasattr(np, "bitwise_count")


def blocks(total: int, width: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` ranges covering ``total`` resamples in blocks whose ``(block, width)``
    float64 temporaries stay bounded."""
    step = max(1, min(total, BLOCK_ELEMENTS // max(1, width)))
    for lo in range(0, total, step):
        yield lo, min(total, lo + step)


def score_width(units: Units) -> int:
    """Elements per resample of the temporaries of scoring (for block sizes)."""
    rows = units.base.shape[0]
    width = max(units.n_types, 3 * units.base.shape[1])
    return width if units.decomposable else max(width, 4 * rows)


# ---------------------------------------------------------------------------- scoring


def _times(counts: np.ndarray, matrix: Any) -> np.ndarray:
    """``counts @ matrix`` as a dense ndarray (matrix dense or CSR)."""
    return np.asarray(counts @ matrix)


def summed_pair(units: Units, type_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Summed statistics of both models on resamples given as per-type counts ``(b, T)``.

    ``S_a = counts @ base + counts[:, disc] @ (adapted - base)[disc]``: identical statistics give
    bitwise-identical sums on any CPU and BLAS (``S_b + 0`` is ``S_b``; there is no second column
    to sum in another order), so a model compared with itself has Δ* = 0 in every resample.
    """
    counts = np.asarray(type_counts, dtype=np.float64)
    sum_b = _times(counts, units.base_matrix)
    disc = units.discordant_index
    if disc.shape[0] == 0:
        return sum_b, sum_b.copy()
    return sum_b, sum_b + _times(counts[:, disc], units.diff)


def score_counts(units: Units, type_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores of both models on resamples given as per-type counts ``(b, T)``: ``(b,), (b,)``.

    Identical statistics give bitwise-equal scores (see :func:`summed_pair`; a non-decomposable
    metric is scored once when no type is discordant)."""
    metric = units.metric
    counts = np.asarray(type_counts, dtype=np.float64)
    if units.decomposable:
        sum_b, sum_a = summed_pair(units, counts)
        sb = metric.score_from_stats(sum_b)
        sa = metric.score_from_stats(sum_a) if units.discordant_index.shape[0] else sb.copy()
        return sb, sa
    rc = units.row_counts(counts)
    sb = metric.score_resamples(units.base, rc)
    if not units.discordant.any():
        return sb, sb.copy()
    return sb, metric.score_resamples(units.adapted, rc)


def observed(units: Units) -> tuple[float, float]:
    """Scores of both models on the full data."""
    sb, sa = score_counts(units, units.mult[None, :])
    return float(sb[0]), float(sa[0])


def score_flips(units: Units, flips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores of both models after swapping their outputs on some units.

    ``flips`` is ``(b, Td)``: for each discordant type (in type order), how many of its units
    swap base and adapted (0..mult). Concordant types are unchanged by a swap and never drawn.
    """
    metric = units.metric
    flips = np.asarray(flips, dtype=np.float64)
    b = flips.shape[0]
    if units.decomposable:
        tot_b, tot_a = summed_pair(units, units.mult[None, :])
        k = tot_b.shape[1]
        shift = _times(flips, units.diff) if flips.shape[1] else np.zeros((b, k))
        return metric.score_from_stats(tot_b + shift), metric.score_from_stats(tot_a - shift)
    disc = np.flatnonzero(units.discordant)
    s_types = np.zeros((b, units.n_types))
    s_types[:, disc] = flips
    s_rows = units.row_counts(s_types)
    rmult = units.mult.astype(np.float64) if units.row_type is None else np.ones(units.base.shape[0])
    stacked = np.vstack([units.base, units.adapted])
    keep = rmult[None, :] - s_rows
    cb = np.hstack([keep, s_rows])
    ca = np.hstack([s_rows, keep])
    return metric.score_resamples(stacked, cb), metric.score_resamples(stacked, ca)


def jackknife_deltas(units: Units) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-unit-out Δ for every unit type and the type multiplicities (BCa acceleration)."""
    metric = units.metric
    T = units.n_types
    mult = units.mult.astype(np.float64)
    out = np.empty(T)
    if units.decomposable:
        k = units.base.shape[1]
        tot_b, tot_a = (x[0] for x in summed_pair(units, mult[None, :]))
        for lo, hi in blocks(T, 2 * k):
            loo_b = tot_b[None, :] - units.base[lo:hi]
            loo_a = tot_a[None, :] - units.adapted[lo:hi]
            out[lo:hi] = metric.score_from_stats(loo_a) - metric.score_from_stats(loo_b)
        return out, units.mult
    for lo, hi in blocks(T, max(T, units.base.shape[0]) * 2):
        counts = np.broadcast_to(mult, (hi - lo, T)).copy()
        counts[np.arange(hi - lo), np.arange(lo, hi)] -= 1.0
        sb, sa = score_counts(units, counts)
        out[lo:hi] = sa - sb
    return out, units.mult


# ---------------------------------------------------------------------------- draws

#: types with at least this many units are drawn by the multinomial (one binomial each per
#: resample); rarer types by drawing units (one index each), which is cheaper for them
MULTINOMIAL_MIN_MULT = 10
#: Binomial(m, 1/2) by popcount of m random bits up to this m, numpy's sampler above
POPCOUNT_MAX = 2048


def _rowwise_bincount(values: np.ndarray, offsets: np.ndarray | None, b: int, size: int) -> np.ndarray:
    """Counts of ``values`` in ``[0, size)`` per resample: ``values`` is ``(b, m)`` (one row per
    resample) when ``offsets`` is None, else flat with ``offsets`` = resample index × size."""
    if offsets is None:
        flat = values.astype(np.int64) + (np.arange(b, dtype=np.int64) * size)[:, None]
    else:
        flat = values.astype(np.int64, copy=False)
        flat += offsets
    return np.bincount(flat.ravel(), minlength=b * size).reshape(b, size)


def counts_from_indices(units: Units, indices: np.ndarray) -> np.ndarray:
    """Per-type counts ``(b, T)`` of resamples given as unit indices ``(b, G)``."""
    return _rowwise_bincount(units.type_of_unit[indices], None, indices.shape[0], units.n_types)


def draw_width(units: Units) -> int:
    """Elements per resample of the temporaries of :func:`draw_counts` (for block sizes)."""
    n_big = int(np.count_nonzero(units.mult >= MULTINOMIAL_MIN_MULT))
    return max(units.n_types, int(units.mult[n_big:].sum()))


def draw_counts(rng: np.random.Generator, units: Units, size: int) -> np.ndarray:
    """Per-type counts ``(size, T)`` of ``size`` bootstrap resamples of the G units.

    Exactly the distribution of the type counts of G units drawn with replacement, drawn
    cheaply: Multinomial(G, mult/G) over the types, where the types with fewer than
    :data:`MULTINOMIAL_MIN_MULT` units are merged into one category whose count is then split
    by drawing that many units among them (a multinomial given its total is again a
    multinomial, so this is exact). Types are sorted by decreasing multiplicity, so the
    frequent ones form a prefix.
    """
    G, T = units.n_units, units.n_types
    mult = units.mult
    n_big = int(np.count_nonzero(mult >= MULTINOMIAL_MIN_MULT))
    out = np.zeros((size, T), dtype=np.int64)
    if n_big == T:
        return rng.multinomial(G, mult / G, size=size)
    if n_big:
        p = np.append(mult[:n_big], mult[n_big:].sum()) / G
        head = rng.multinomial(G, p, size=size)
        out[:, :n_big] = head[:, :n_big]
        n_small = head[:, n_big]
    else:
        n_small = np.full(size, G, dtype=np.int64)
    small_units = int(mult[n_big:].sum())
    dtype = np.int32 if small_units < 2**31 else np.int64
    picks = rng.integers(0, small_units, size=int(n_small.sum()), dtype=dtype)
    table = np.repeat(np.arange(T - n_big, dtype=np.int64), mult[n_big:])
    offsets = np.repeat(np.arange(size, dtype=np.int64) * (T - n_big), n_small)
    out[:, n_big:] = _rowwise_bincount(table[picks], offsets, size, T - n_big)
    return out


def flip_width(mult: np.ndarray) -> int:
    """Elements per resample of the temporaries of :func:`draw_flips` (for block sizes)."""
    m = np.asarray(mult, dtype=np.int64)
    small = m[m <= POPCOUNT_MAX]
    return int(m.shape[0] + ((small + 63) // 64).sum())


def draw_flips(rng: np.random.Generator, mult: np.ndarray, size: int) -> np.ndarray:
    """How many units of each type swap models, ``(size, len(mult))``: Binomial(mult, 1/2).

    A Binomial(m, 1/2) draw is the number of ones among m fair random bits: up to
    :data:`POPCOUNT_MAX` it is drawn as the popcount of m random bits (exact, and much faster
    than a general binomial sampler), above that by numpy's binomial sampler.
    """
    mult = np.asarray(mult, dtype=np.int64)
    out = np.empty((size, mult.shape[0]), dtype=np.int64)
    large = mult > POPCOUNT_MAX
    if large.any():
        out[:, large] = rng.binomial(mult[large], 0.5, size=(size, int(large.sum())))
    small = np.flatnonzero(~large)
    if small.size == 0:
        return out
    if not _HAS_BITCOUNT:  # pragma: no cover - numpy < 2.0
        out[:, small] = rng.binomial(mult[small], 0.5, size=(size, small.size))
        return out
    words = (mult[small] + 63) // 64
    for w in np.unique(words):
        cols = small[words == w]
        w = int(w)
        raw = rng.bit_generator.random_raw(size * cols.size * w).reshape(size, cols.size, w)
        rest = (mult[cols] - 64 * (w - 1)).astype(np.uint64)  # bits used in the last word, 1..64
        mask = np.where(rest >= 64, np.uint64(0xFFFFFFFFFFFFFFFF), (np.uint64(1) << (rest % np.uint64(64))) - np.uint64(1))
        raw[:, :, -1] &= mask
        out[:, cols] = np.bitwise_count(raw).sum(axis=2, dtype=np.int64)
    return out
