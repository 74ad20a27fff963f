"""Which cameras' hot-list hit rates are outliers against the others (pure; no I/O).

A hit keeps a read a year instead of 60 days, so a camera that marks too many reads as hits
(misconfigured, or used to keep everything) keeps data the policy says to delete. A camera is
flagged when, over the review's window, it has enough reads to judge, enough other cameras
to compare with, a hit rate of at least ``min_rate``, and more than ``factor`` times the
median rate of the other cameras.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

RULE = "hit_rate_anomaly"


@dataclass(frozen=True)
class HitRateRules:
    window_days: int = 7  # the review compares cameras over the reads of this many days
    min_reads: int = 500  # a camera with fewer reads than this is neither judged nor a baseline
    min_cameras: int = 3  # other cameras needed for a baseline
    factor: float = 5.0  # flagged above this multiple of the other cameras' median rate...
    min_rate: float = 0.05  # ...and at or above this rate
    severity: str = "medium"


@dataclass(frozen=True)
class CameraHitRate:
    camera_id: str
    reads: int
    hits: int

    @property
    def rate(self) -> float:
        return self.hits / self.reads if self.reads else 0.0


@dataclass(frozen=True)
class HitRateOutlier:
    camera: CameraHitRate
    baseline: float  # the median rate of the cameras compared with
    compared: int  # how many cameras that median is over


def hit_rate_outliers(rates: Sequence[CameraHitRate], rules: HitRateRules) -> list[HitRateOutlier]:
    judged = sorted((r for r in rates if r.reads >= rules.min_reads), key=lambda r: r.camera_id)
    found = []
    for camera in judged:
        others = [o.rate for o in judged if o.camera_id != camera.camera_id]
        if len(others) < rules.min_cameras:
            continue
        baseline = median(others)
        if camera.rate >= rules.min_rate and camera.rate > rules.factor * baseline:
            found.append(HitRateOutlier(camera, baseline, len(others)))
    return found
