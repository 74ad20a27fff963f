"""Hit-rate outliers, pure: which cameras are judged, what they are compared with, the bounds."""

from __future__ import annotations

from alpr_guard.policy.hit_rates import CameraHitRate, HitRateRules, hit_rate_outliers

RULES = HitRateRules(min_reads=100, min_cameras=3, factor=5.0, min_rate=0.05)


def cams(*hits: int, reads: int = 1000) -> list[CameraHitRate]:
    return [CameraHitRate(f"cam-{n}", reads, h) for n, h in enumerate(hits)]


def test_a_camera_far_above_the_others_is_an_outlier_with_its_figures() -> None:
    rates = cams(10, 10, 20, 300)  # 1%, 1%, 2%, 30%
    [found] = hit_rate_outliers(rates, RULES)
    assert found.camera.camera_id == "cam-3"
    assert found.baseline == 0.01  # median of 1%, 1%, 2%
    assert found.compared == 3


def test_nothing_is_flagged_among_similar_cameras() -> None:
    assert hit_rate_outliers(cams(10, 12, 9, 11), RULES) == []


def test_too_few_other_cameras_means_no_judgement() -> None:
    assert hit_rate_outliers(cams(10, 10, 300), RULES) == []  # only two others each
    assert hit_rate_outliers([], RULES) == []


def test_cameras_with_too_few_reads_are_neither_judged_nor_a_baseline() -> None:
    rates = [*cams(10, 10, 300), CameraHitRate("cam-quiet", 99, 0)]
    assert hit_rate_outliers(rates, RULES) == []  # cam-quiet does not make a third baseline
    loud_but_small = [*cams(10, 10, 10), CameraHitRate("cam-small", 99, 99)]
    assert hit_rate_outliers(loud_but_small, RULES) == []
    at_the_bound = [*cams(10, 10, 10), CameraHitRate("cam-new", 100, 50)]
    assert [o.camera.camera_id for o in hit_rate_outliers(at_the_bound, RULES)] == ["cam-new"]


def test_both_the_factor_and_the_minimum_rate_must_be_exceeded() -> None:
    # 4% is eight times a 0.5% baseline but under the 5% minimum rate: not flagged.
    assert hit_rate_outliers(cams(5, 5, 5, 40), RULES) == []
    # 5% exactly is at the minimum rate and ten times the baseline: flagged.
    assert [o.camera.camera_id for o in hit_rate_outliers(cams(5, 5, 5, 50), RULES)] == ["cam-3"]
    # 30% against a 10% baseline is high but only three times it: not flagged.
    assert hit_rate_outliers(cams(100, 100, 100, 300), RULES) == []
    # Exactly factor times the baseline is not more than it.
    assert hit_rate_outliers(cams(20, 20, 20, 100), RULES) == []


def test_a_camera_without_reads_has_rate_zero() -> None:
    assert CameraHitRate("cam-0", 0, 0).rate == 0.0
    assert CameraHitRate("cam-1", 200, 50).rate == 0.25


def test_outliers_come_in_camera_order_whatever_the_input_order() -> None:
    rates = cams(1, 1, 1, 1, 300, 400)
    found = hit_rate_outliers(list(reversed(rates)), RULES)
    assert [o.camera.camera_id for o in found] == ["cam-4", "cam-5"]
    assert all(o.compared == 5 for o in found)
