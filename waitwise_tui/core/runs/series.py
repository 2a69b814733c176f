"""Per-(run, metric) point storage whose plot queries cost the plot's width.

A ``Series`` holds the points of one metric of one run as segments: a step that goes
backwards (a resumed or restarted run) starts a new segment. Each ``Segment`` keeps
append-only numpy arrays of step, value and wall time, plus a pyramid of levels: level
``j`` stores, for consecutive buckets of ``BASE * 2**j`` points, the minimum, maximum,
sum and count of the finite values. ``Segment.downsample`` picks the coarsest level
whose bucket count over the asked step range is at most ``n_buckets``, so a frame of a
10M-point series touches about as many numbers as a frame of a 10k-point one. Buckets
cut by the range's ends are computed exactly from smaller levels (segment-tree style).

Memory is bounded by the pyramid, not by the run: a segment keeps only its latest
``RAW_CAP`` raw points. Older points live on only in the levels of ``COARSE`` points and
up, whose coarsest-kept buckets also remember their first and last step and wall time
and their last value. Indices stay global (point ``i`` of the whole segment); in the
dropped part they resolve to ``COARSE`` buckets: a range or an aggregate there is exact
for ranges whose ends fall on bucket edges and snapped to the nearest edge otherwise.

numpy is imported inside the methods: modules imported at app start-up stay light.
Not thread-safe on its own; the monitor serialises appends and queries with a lock.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from waitwise_tui.core.runs.model import Point

# Smallest stored bucket. Ranges shorter than BASE * n_buckets are bucketed straight
# from the raw arrays, which is O(width) anyway.
BASE = 16
# The bucket size that outlives the raw points: the old part's resolution.
COARSE = 256
# Raw points kept per segment (the latest); a multiple of COARSE.
RAW_CAP = 131_072


def _np() -> Any:
    import numpy

    return numpy


class _Buffer:
    """A growable float64 array that can also drop from its front; ``view`` is the filled part.

    Filled part is ``data[lo:hi]``. Dropping moves ``lo``; an extend that runs out of room
    first slides the filled part back to the front when that frees enough, else grows
    (capacity doubling), so appends and drops are amortised O(1) per value.
    """

    __slots__ = ("data", "hi", "lo", "owned")

    def __init__(self) -> None:
        self.data = _np().empty(64, dtype="float64")
        self.lo = 0
        self.hi = 0
        self.owned = True

    @property
    def size(self) -> int:
        return self.hi - self.lo

    def extend(self, values: np.ndarray) -> None:
        np = _np()
        size = self.size
        need = size + len(values)
        if not size and need > len(self.data) and _adoptable(values):
            # A first big block (a bulk read) is kept as it is: copying it would only
            # fault in fresh memory. It is never written: ``owned`` is False.
            self.data, self.lo, self.hi, self.owned = values, 0, need, False
            return
        if self.hi + len(values) > len(self.data):
            if self.owned and need <= len(self.data) // 2:
                self.data[:size] = self.data[self.lo : self.hi].copy()
            else:
                grown = np.empty(max(need, 2 * len(self.data)), dtype="float64")
                grown[:size] = self.data[self.lo : self.hi]
                self.data = grown
                self.owned = True
            self.lo, self.hi = 0, size
        self.data[self.hi : self.hi + len(values)] = values
        self.hi += len(values)

    def truncate(self, size: int) -> None:
        self.hi = self.lo + size

    def drop_front(self, count: int) -> None:
        """Forget the first ``count`` values; a borrowed array is let go of (copied)."""
        self.lo += min(count, self.size)
        if not self.owned:
            self.data = self.data[self.lo : self.hi].copy()
            self.lo, self.hi, self.owned = 0, len(self.data), True

    @property
    def view(self) -> np.ndarray:
        return self.data[self.lo : self.hi]

    def at(self, index: Any) -> Any:
        """Values at ``index`` (an int or an int array) of the filled part."""
        return self.data[self.lo + index]


def _adoptable(values: Any) -> bool:
    return (
        getattr(values, "dtype", None) == "float64"
        and values.ndim == 1
        and values.flags.c_contiguous
    )


class _Level:
    """Bucket aggregates of one pyramid level; bucket ``b`` covers raw ``[b*size, (b+1)*size)``.

    Levels finer than ``COARSE`` keep only the buckets over the kept raw points, from
    bucket ``origin`` on. The ``COARSE`` level also keeps each bucket's ``ends``: first
    step, last step, first wall, last wall, last value (the old part's stand-in for
    the raw points).
    """

    __slots__ = ("counts", "ends", "maxs", "mins", "origin", "size", "sums")

    def __init__(self, size: int) -> None:
        self.size = size
        self.origin = 0
        self.mins = _Buffer()
        self.maxs = _Buffer()
        self.sums = _Buffer()
        self.counts = _Buffer()
        self.ends: tuple[_Buffer, ...] = (
            tuple(_Buffer() for _ in range(5)) if size == COARSE else ()
        )

    @property
    def buckets(self) -> int:
        return self.origin + self.mins.size

    def _buffers(self) -> tuple[_Buffer, ...]:
        return (self.mins, self.maxs, self.sums, self.counts, *self.ends)

    def replace_tail(self, first: int, *columns: Any) -> None:
        """Rewrite buckets from index ``first`` on (the last one may have been partial)."""
        for buffer, values in zip(self._buffers(), columns, strict=False):
            buffer.truncate(first - self.origin)
            buffer.extend(values)

    def drop_before(self, bucket: int) -> None:
        if bucket > self.origin:
            for buffer in self._buffers():
                buffer.drop_front(bucket - self.origin)
            self.origin = bucket

    def columns(self, b_lo: int, b_hi: int) -> tuple[Any, Any, Any, Any]:
        """(mins, maxs, sums, counts) of buckets ``[b_lo, b_hi)``."""
        sl = slice(b_lo - self.origin, b_hi - self.origin)
        return self.mins.view[sl], self.maxs.view[sl], self.sums.view[sl], self.counts.view[sl]

    def bucket(self, b: int) -> tuple[float, float, float, float]:
        i = b - self.origin
        return (
            float(self.mins.at(i)),
            float(self.maxs.at(i)),
            float(self.sums.at(i)),
            float(self.counts.at(i)),
        )


@dataclass(frozen=True)
class Downsampled:
    """Bucketed view of a step range: one entry per bucket, raw indices inclusive.

    ``y_min``/``y_max``/``y_mean`` ignore non-finite values (NaN when a bucket has
    none); ``y_last`` is the bucket's last raw value as logged.
    """

    i_first: np.ndarray
    i_last: np.ndarray
    x_first: np.ndarray
    x_last: np.ndarray
    wall_first: np.ndarray
    wall_last: np.ndarray
    y_min: np.ndarray
    y_max: np.ndarray
    y_mean: np.ndarray
    y_last: np.ndarray
    finite: np.ndarray

    def __len__(self) -> int:
        return len(self.i_first)

    @property
    def points_per_bucket(self) -> float:
        """Average raw points per bucket (1.0 when the range was not bucketed)."""
        if not len(self):
            return 1.0
        return float((self.i_last - self.i_first + 1).mean())

    def envelope(self, x: str = "step") -> tuple[np.ndarray, np.ndarray]:
        """At most two (x, y) points per bucket: its minimum and its maximum.

        ``x`` is ``"step"`` or ``"wall"`` (the wall times of the bucket's ends).
        Buckets without a finite value are left out.
        """
        np = _np()
        first, last = (
            (self.x_first, self.x_last) if x == "step" else (self.wall_first, self.wall_last)
        )
        keep = self.finite > 0
        single = keep & (self.i_first == self.i_last)
        double = keep & ~single
        xs = np.concatenate([first[single], first[double], last[double]])
        ys = np.concatenate([self.y_min[single], self.y_min[double], self.y_max[double]])
        # Interleave by position so the line runs left to right through min then max.
        order = np.argsort(
            np.concatenate(
                [
                    self.i_first[single] * 2.0,
                    self.i_first[double] * 2.0,
                    self.i_last[double] * 2.0 + 1.0,
                ]
            ),
            kind="stable",
        )
        return xs[order], ys[order]


class Segment:
    """Points with non-decreasing steps, plus their min/max/sum/count pyramid.

    ``steps``, ``values`` and ``walls`` hold the latest ``raw_cap`` points (raw indices
    ``dropped`` on); ``len`` counts every point appended.
    """

    def __init__(self, raw_cap: int = RAW_CAP) -> None:
        if raw_cap < COARSE or raw_cap % COARSE:
            raise ValueError(f"raw_cap must be a positive multiple of {COARSE}")
        self.raw_cap = raw_cap
        self.steps = _Buffer()
        self.values = _Buffer()
        self.walls = _Buffer()
        self.levels: list[_Level] = []
        self.dropped = 0
        self.first_step = math.nan

    def __len__(self) -> int:
        return self.dropped + self.steps.size

    @property
    def kept(self) -> int:
        """How many of the latest points are held raw."""
        return self.steps.size

    @property
    def last_step(self) -> float:
        return float(self.steps.at(self.steps.size - 1)) if self.steps.size else -math.inf

    def append(self, steps: np.ndarray, values: np.ndarray, walls: np.ndarray) -> None:
        """Append points whose steps are non-decreasing and not below ``last_step``."""
        if not len(steps):
            return
        old = len(self)
        if not old:
            self.first_step = float(steps[0])
        self.steps.extend(steps)
        self.values.extend(values)
        self.walls.extend(walls)
        self._update_levels(old)
        excess = self.kept - self.raw_cap
        if excess > 0:
            # Whole COARSE buckets go, so the old part is exactly the COARSE level's.
            drop = -(-excess // COARSE) * COARSE
            for buffer in (self.steps, self.values, self.walls):
                buffer.drop_front(drop)
            self.dropped += drop
            for level in self.levels:
                if level.size < COARSE:
                    level.drop_before(self.dropped // level.size)

    def _update_levels(self, old: int) -> None:
        np = _np()
        n = len(self)
        d = self.dropped
        level_index = 0
        while True:
            size = BASE << level_index
            if level_index == len(self.levels):
                # A level pays off only once it has at least two buckets.
                if n <= size:
                    return
                self.levels.append(_Level(size))
                start_point = 0
            else:
                start_point = old
            level = self.levels[level_index]
            first = min(start_point // size, level.buckets)
            if level_index == 0:
                raw = self.values.view[first * size - d :]
                finite = np.isfinite(raw)
                offsets = np.arange(0, len(raw), size)
                if finite.all():
                    # The usual case, without the masked copies (same results).
                    mins = np.minimum.reduceat(raw, offsets)
                    maxs = np.maximum.reduceat(raw, offsets)
                    sums = np.add.reduceat(raw, offsets)
                    counts = np.minimum(size, len(raw) - offsets).astype("float64")
                else:
                    clean = np.where(finite, raw, np.nan)
                    mins = np.fmin.reduceat(clean, offsets)
                    maxs = np.fmax.reduceat(clean, offsets)
                    sums = np.add.reduceat(np.where(finite, raw, 0.0), offsets)
                    counts = np.add.reduceat(finite.astype("float64"), offsets)
            else:
                child = self.levels[level_index - 1]
                lo = 2 * first - child.origin
                offsets = np.arange(0, child.buckets - child.origin - lo, 2)
                mins = np.fmin.reduceat(child.mins.view[lo:], offsets)
                maxs = np.fmax.reduceat(child.maxs.view[lo:], offsets)
                sums = np.add.reduceat(child.sums.view[lo:], offsets)
                counts = np.add.reduceat(child.counts.view[lo:], offsets)
            ends: tuple[Any, ...] = ()
            if size == COARSE:
                starts = np.arange(first * size, n, size)
                lasts = np.minimum(starts + size, n) - 1 - d
                starts -= d
                ends = (
                    self.steps.at(starts),
                    self.steps.at(lasts),
                    self.walls.at(starts),
                    self.walls.at(lasts),
                    self.values.at(lasts),
                )
            level.replace_tail(first, mins, maxs, sums, counts, *ends)
            level_index += 1

    def _snap(self, index: int) -> int:
        """``index`` in the dropped part moved to the nearest ``COARSE`` bucket edge."""
        if index >= self.dropped:
            return index
        return (index + COARSE // 2) // COARSE * COARSE

    def aggregate(self, lo: int, hi: int) -> tuple[float, float, float, float]:
        """(min, max, sum, count) of the finite values at raw indices ``[lo, hi)``.

        Exact over kept points and over bucket edges in the dropped part (ends there
        snap to the nearest edge). Walks aligned buckets from the largest that fits,
        so the cost is O(levels + BASE), whatever the range's length.
        """
        np = _np()
        lo = self._snap(max(lo, 0))
        hi = self._snap(min(hi, len(self)))
        d = self.dropped
        lo_v, hi_v, total, count = math.inf, -math.inf, 0.0, 0.0
        values = self.values.view
        while lo < hi:
            chosen: _Level | None = None
            for level in reversed(self.levels):
                if (
                    lo % level.size == 0
                    and lo + level.size <= hi
                    and lo // level.size >= level.origin
                ):
                    chosen = level
                    break
            if chosen is None:
                end = min(hi, (lo // BASE + 1) * BASE)
                raw = values[lo - d : end - d]
                finite = raw[np.isfinite(raw)]
                if len(finite):
                    lo_v = min(lo_v, float(finite.min()))
                    hi_v = max(hi_v, float(finite.max()))
                    total += float(finite.sum())
                    count += len(finite)
                lo = end
                continue
            b_min, b_max, b_sum, b_count = chosen.bucket(lo // chosen.size)
            if b_count > 0:
                lo_v = min(lo_v, b_min)
                hi_v = max(hi_v, b_max)
                total += b_sum
                count += b_count
            lo += chosen.size
        if count == 0:
            return math.nan, math.nan, 0.0, 0.0
        return lo_v, hi_v, total, count

    def _coarse(self) -> _Level:
        return next(level for level in self.levels if level.size == COARSE)

    def index_range(self, x_lo: float, x_hi: float) -> tuple[int, int]:
        """Raw indices ``[lo, hi)`` of the points whose step lies in ``[x_lo, x_hi]``.

        In the dropped part the ends are ``COARSE`` bucket edges: a bucket counts as
        inside when its step span meets the range.
        """
        np = _np()
        steps = self.steps.view
        d = self.dropped
        lo = int(np.searchsorted(steps, x_lo, side="left")) + d
        hi = int(np.searchsorted(steps, x_hi, side="right")) + d
        if not d:
            return lo, hi
        coarse = self._coarse()
        old = d // COARSE
        if lo == d:
            lo = int(np.searchsorted(coarse.ends[1].view[:old], x_lo, side="left")) * COARSE
        if hi == d:
            hi = int(np.searchsorted(coarse.ends[0].view[:old], x_hi, side="right")) * COARSE
        return lo, hi

    def downsample(self, x_lo: float, x_hi: float, n_buckets: int) -> Downsampled:
        """Buckets over the points with step in ``[x_lo, x_hi]``: at most ``n_buckets + 2``."""
        np = _np()
        n_buckets = max(1, int(n_buckets))
        lo, hi = self.index_range(x_lo, x_hi)
        count = max(0, hi - lo)
        d = self.dropped
        values = self.values.view
        if count <= n_buckets and (lo >= d or not count):
            i_first = np.arange(lo, lo + count)
            raw = values[lo - d : lo - d + count]
            finite = np.isfinite(raw)
            clean = np.where(finite, raw, np.nan)
            return self._result(i_first, i_first, clean, clean, clean, raw, finite.astype(float))
        size = 1
        while math.ceil(count / size) > n_buckets:
            size *= 2
        if lo < d:
            size = max(size, COARSE)
        level = next((lv for lv in self.levels if lv.size == size), None)
        if level is None and lo < d:
            # Coarser than the coarsest level (one bucket asked): one aggregate.
            parts_first, parts = [np.array([lo])], [self._edge(lo, hi)]
            return self._assemble(parts_first, parts, hi)
        if level is None:
            # Finer than the smallest stored level: bucket the (short) raw slice directly.
            offsets = np.arange(0, count, size)
            raw = values[lo - d : hi - d]
            finite = np.isfinite(raw)
            clean = np.where(finite, raw, np.nan)
            i_first = offsets + lo
            i_last = np.minimum(i_first + size, hi) - 1
            counts = np.add.reduceat(finite.astype("float64"), offsets)
            sums = np.add.reduceat(np.where(finite, raw, 0.0), offsets)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(counts > 0, sums / np.maximum(counts, 1.0), np.nan)
            return self._result(
                i_first,
                i_last,
                np.fmin.reduceat(clean, offsets),
                np.fmax.reduceat(clean, offsets),
                means,
                values[i_last - d],
                counts,
            )
        b_lo = -(-lo // size)
        b_hi = hi // size
        parts_first: list[Any] = []
        parts: list[tuple[Any, Any, Any, Any]] = []
        if b_lo >= b_hi:
            b_lo = b_hi = 0
        if lo < b_lo * size or b_lo == b_hi:
            edge_hi = b_lo * size if b_lo < b_hi else hi
            parts_first.append(np.array([lo]))
            parts.append(self._edge(lo, edge_hi))
        if b_lo < b_hi:
            parts_first.append(np.arange(b_lo, b_hi) * size)
            parts.append(level.columns(b_lo, b_hi))
            if b_hi * size < hi:
                parts_first.append(np.array([b_hi * size]))
                parts.append(self._edge(b_hi * size, hi))
        return self._assemble(parts_first, parts, hi)

    def _assemble(self, parts_first: list[Any], parts: list[Any], hi: int) -> Downsampled:
        np = _np()
        i_first = np.concatenate(parts_first).astype("int64")
        i_last = np.append(i_first[1:], hi) - 1
        mins = np.concatenate([p[0] for p in parts]).astype("float64")
        maxs = np.concatenate([p[1] for p in parts]).astype("float64")
        sums = np.concatenate([p[2] for p in parts]).astype("float64")
        counts = np.concatenate([p[3] for p in parts]).astype("float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1.0), np.nan)
        last = self._lookup(self.values, 4, i_last)
        return self._result(i_first, i_last, mins, maxs, means, last, counts)

    def _edge(self, lo: int, hi: int) -> tuple[Any, Any, Any, Any]:
        np = _np()
        mn, mx, total, count = self.aggregate(lo, hi)
        return np.array([mn]), np.array([mx]), np.array([total]), np.array([count])

    def _lookup(self, raw: _Buffer, end: int, index: Any) -> Any:
        """``raw`` at global ``index``; dropped points answer with their bucket's ``end``."""
        np = _np()
        index = np.asarray(index, dtype="int64")
        d = self.dropped
        if not d:
            return raw.at(index)
        old = index < d
        if not old.any():
            return raw.at(index - d)
        out = np.empty(len(index), dtype="float64")
        out[~old] = raw.at(index[~old] - d)
        out[old] = self._coarse().ends[end].at(index[old] // COARSE)
        return out

    def _result(
        self, i_first: Any, i_last: Any, mins: Any, maxs: Any, means: Any, last: Any, finite: Any
    ) -> Downsampled:
        return Downsampled(
            i_first=i_first,
            i_last=i_last,
            x_first=self._lookup(self.steps, 0, i_first),
            x_last=self._lookup(self.steps, 1, i_last),
            wall_first=self._lookup(self.walls, 2, i_first),
            wall_last=self._lookup(self.walls, 3, i_last),
            y_min=mins,
            y_max=maxs,
            y_mean=means,
            y_last=last,
            finite=finite,
        )


class Series:
    """All points of one metric of one run, as segments, with running summaries."""

    def __init__(self, metric: str, raw_cap: int = RAW_CAP) -> None:
        self.metric = metric
        self.raw_cap = raw_cap
        self.segments: list[Segment] = []
        self.count = 0
        self.nonfinite = 0
        self.first = math.nan
        self.last = math.nan
        self.min = math.nan
        self.max = math.nan
        self.last_step = math.nan
        self.first_nonfinite_step: float | None = None
        # Wall time of the first point that has one: the origin of a "relative" x axis.
        self.first_wall = math.nan

    def __len__(self) -> int:
        return self.count

    def extend(self, points: Iterable[Point]) -> None:
        """Append ``Point``s of this metric in log order."""
        steps: list[float] = []
        values: list[float] = []
        walls: list[float] = []
        for point in points:
            steps.append(point.step)
            values.append(point.value)
            walls.append(math.nan if point.wall_time is None else point.wall_time)
        self.append(steps, values, walls)

    def append(
        self,
        steps: Sequence[float] | np.ndarray,
        values: Sequence[float] | np.ndarray,
        walls: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        """Append points in log order; a step below the previous one starts a segment.

        Points without a finite step cannot be placed on an axis and are skipped.
        float64 arrays may be kept without a copy (read-only arrays are fine): the
        caller must not modify them afterwards.
        """
        np = _np()
        steps_a = np.asarray(steps, dtype="float64")
        values_a = np.asarray(values, dtype="float64")
        walls_a = (
            np.full(len(steps_a), np.nan) if walls is None else np.asarray(walls, dtype="float64")
        )
        placed = np.isfinite(steps_a)
        if not placed.all():
            steps_a, values_a, walls_a = steps_a[placed], values_a[placed], walls_a[placed]
        if not len(steps_a):
            return
        finite = np.isfinite(values_a)
        n_finite = int(finite.sum())
        if self.count == 0:
            self.first = float(values_a[0])
        if math.isnan(self.first_wall):
            has_wall = np.flatnonzero(np.isfinite(walls_a))
            if len(has_wall):
                self.first_wall = float(walls_a[has_wall[0]])
        if n_finite < len(values_a) and self.first_nonfinite_step is None:
            self.first_nonfinite_step = float(steps_a[np.argmin(finite)])
        self.count += len(values_a)
        self.nonfinite += len(values_a) - n_finite
        self.last = float(values_a[-1])
        self.last_step = float(steps_a[-1])
        if n_finite:
            good = values_a if n_finite == len(values_a) else values_a[finite]
            self.min = float(np.fmin(good.min(), self.min))
            self.max = float(np.fmax(good.max(), self.max))
        previous = self.segments[-1].last_step if self.segments else math.inf
        breaks = np.flatnonzero(steps_a[1:] < steps_a[:-1]) + 1
        bounds = [0, *breaks.tolist(), len(steps_a)]
        for start, end in itertools.pairwise(bounds):
            if not self.segments or (start == 0 and steps_a[0] < previous) or start > 0:
                self.segments.append(Segment(self.raw_cap))
            self.segments[-1].append(steps_a[start:end], values_a[start:end], walls_a[start:end])

    def step_range(self, segment: int = -1) -> tuple[float, float]:
        """(first step, last step) of one segment; (nan, nan) when empty."""
        if not self.segments:
            return math.nan, math.nan
        seg = self.segments[segment]
        return seg.first_step, seg.last_step
