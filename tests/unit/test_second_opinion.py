"""The statistical second opinion on justifications the word lists pass: features, training,
the model file, the configuration, and what it does to a search's decision (flags, and refuses
from ``refuse_from`` when that is configured). Its accuracy is measured on the labelled parts in
test_screening_accuracy."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpr_guard.errors import ConfigError
from alpr_guard.policy import second_opinion as so
from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.screening import screen_search
from alpr_guard.policy.text_rules import words_of
from alpr_guard.settings import Settings, load_settings
from bench.screening import DEVELOPMENT_PARTS, PARTS, read_rows
from tests.conftest import PROFILE, REPO, write_config
from tests.unit.screening_cases import CONFIG, FACTS, NOW

MODEL_FILE = REPO / "config" / "screening-model.california.json"

# A toy training set: the positive class speaks of sending people back, the other of stolen cars.
TOY_TEXTS = [
    "send him back to his country",
    "he must be sent back home",
    "papers expired send back",
    "stolen car from the lot",
    "car stolen overnight from driveway",
    "burglary suspect vehicle seen",
]
TOY_LABELS = [True, True, True, False, False, False]


@pytest.fixture(scope="module")
def toy() -> so.Model:
    return so.train(TOY_TEXTS, TOY_LABELS, parts=(("toy.csv", 6),))


def decision(settings: Settings, text: str) -> tuple[ReasonCode | None, list[tuple[str, ...]]]:
    d = screen_search(replace(FACTS, justification=text), settings, NOW)
    return d.reason, [(f.rule, f.severity, *f.matched) for f in d.flags]


# --------------------------------------------------------------------------- features


def test_features_are_words_pairs_and_stems_with_digits_collapsed() -> None:
    assert so.features(["case", "25", "00441", "re", "deported", "car0441"]) == {
        "w:case",
        "w:0",
        "w:re",
        "w:deported",
        "w:car0",
        "p:case 0",
        "p:0 0",
        "p:0 re",
        "p:re deported",
        "p:deported car0",
        "s:depor",  # a longer word's first five letters; never of a word with a digit
    }
    assert so.features([]) == set()


@given(st.lists(st.text(alphabet="abc019", min_size=1, max_size=6), max_size=12))
def test_no_feature_holds_a_digit_other_than_zero(words: list[str]) -> None:
    # A plate typed into a training text never reaches the model file as it was typed.
    for feature in so.features(words):
        assert not any(c in "123456789" for c in feature)


# --------------------------------------------------------------------------- training


def test_training_separates_the_classes_and_is_deterministic(toy: so.Model) -> None:
    assert so.probability(toy, "send him back") > 0.5
    assert so.probability(toy, "stolen car") < 0.5
    again = so.train(TOY_TEXTS, TOY_LABELS, parts=(("toy.csv", 6),))
    assert so.dumps(again) == so.dumps(toy)
    assert toy.trained_on == (("toy.csv", 6),)


def test_training_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both classes"):
        so.train(["a b", "c d"], [True, True])


def test_small_weights_are_dropped() -> None:
    full = so.train(TOY_TEXTS, TOY_LABELS, keep=0.0)
    median = sorted(abs(w) for w in full.weights.values())[len(full.weights) // 2]
    pruned = so.train(TOY_TEXTS, TOY_LABELS, keep=median)
    assert set(pruned.weights) < set(full.weights)
    assert all(abs(w) >= median for w in pruned.weights.values())


def test_the_epoch_order_is_a_permutation_even_when_the_stride_shares_a_factor() -> None:
    # 7919 is the first stride tried: a set of 7919 texts must move on to a coprime one.
    stride = so._coprime_stride(7919, 0)
    assert stride != 7919
    assert sorted((k * stride) % 7919 for k in range(7919)) == list(range(7919))
    assert so._coprime_stride(7, 3) == 7919 + 6  # coprime at once


def test_probability_is_a_probability_at_both_extremes(toy: so.Model) -> None:
    big = so.Model({"w:x": 500.0}, 0.0, ())
    small = so.Model({"w:x": -500.0}, 0.0, ())
    assert so.probability(big, "x") == pytest.approx(1.0)
    assert so.probability(small, "x") == pytest.approx(0.0)
    assert 0.0 < so.probability(toy, "nothing known here") < 1.0


# --------------------------------------------------------------------------- opinion


def test_opinion_reports_the_words_that_weighed_most_and_never_a_digit() -> None:
    weights = {"w:deport": 3.0, "w:0abc": 9.0, "p:send back": 2.0, "w:car": -1.0, "s:sendi": 5.0}
    second = so.SecondOpinion(so.Model(weights, 0.0, ()), 0.6, "prohibited_purpose", "medium")
    said = so.opinion(second, words_of("deport 7ABC123 car send back sending"))
    assert said is not None and not said.refuses
    # The stem weighed most, but a flag names words of the text, not fragments of them.
    assert said.matched == ("second opinion", "deport", "send back")
    assert "7ABC123" not in repr(said) and "0abc" not in repr(said)


def test_no_opinion_below_the_threshold_or_on_an_empty_text(toy: so.Model) -> None:
    second = so.SecondOpinion(toy, 0.99, "prohibited_purpose", "medium")
    assert so.opinion(second, words_of("stolen car from the lot")) is None
    assert so.opinion(second, words_of("  ...  ")) is None


# --------------------------------------------------------------------------- file format


def test_the_file_round_trips(toy: so.Model) -> None:
    text = so.dumps(toy)
    back = so.loads(text)
    assert back == toy and back.weights == toy.weights
    assert json.loads(text)["format"] == so.FORMAT
    assert "weights" not in repr(toy)  # thousands of them: never in a log line or a repr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "is not JSON"),
        ("[]", "is not a screening model"),
        ('{"format": "other"}', "is not a screening model"),
        ('{"format": "alpr_guard.screening_model", "version": 2}', "version must be 1"),
        (
            '{"format": "alpr_guard.screening_model", "version": 1, "bias": 0, "weights": {}}',
            "weights: must be a non-empty object",
        ),
        (
            '{"format": "alpr_guard.screening_model", "version": 1, "bias": 0,'
            ' "weights": {"w:a": true}}',
            "every weight must be a number",
        ),
        (
            '{"format": "alpr_guard.screening_model", "version": 1, "bias": false,'
            ' "weights": {"w:a": 1}}',
            "bias: must be a number",
        ),
        (
            '{"format": "alpr_guard.screening_model", "version": 1, "bias": 0,'
            ' "weights": {"w:a": 1}, "trained_on": [["a.csv"]]}',
            "trained_on: must be a list",
        ),
        (
            '{"format": "alpr_guard.screening_model", "version": 1, "bias": 0,'
            ' "weights": {"w:a": 1}, "trained_on": {}}',
            "trained_on: must be a list",
        ),
    ],
)
def test_a_bad_model_file_is_refused_naming_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        so.loads(text)


def test_the_shipped_model_is_trained_on_development_parts_only() -> None:
    model = so.loads(MODEL_FILE.read_text(encoding="utf-8"))
    names = [name for name, _ in model.trained_on]
    assert names and all("heldout" not in name for name in names)
    assert names == [PARTS[part].name for part in DEVELOPMENT_PARTS]


@pytest.mark.slow
def test_the_shipped_model_is_what_training_makes_of_the_development_parts() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "train_screening_model.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _curve(*args: str) -> subprocess.CompletedProcess[str]:
    tool = REPO / "tools" / "second_opinion_curve.py"
    return subprocess.run(
        [sys.executable, str(tool), *args], capture_output=True, text=True, check=False
    )


@pytest.mark.slow
def test_the_threshold_curve_scores_a_left_out_part_with_a_model_trained_without_it() -> None:
    result = _curve("--parts", "1", "--thresholds", "0.5,0.9")
    assert result.returncode == 0, result.stderr
    head, low, high = result.stdout.splitlines()
    rows = len(read_rows(PARTS[DEVELOPMENT_PARTS[-1]]))
    assert head == f"left out in turn: 1 development parts, {rows} texts"
    counts = [
        [tuple(map(int, c.split("/"))) for c in re.findall(r"\d+/\d+", line)]
        for line in (low, high)
    ]
    # The same texts under both thresholds; a higher one never puts more texts above it.
    assert [d for _, d in counts[0]] == [d for _, d in counts[1]]
    assert all(h <= lo <= d for (lo, d), (h, _) in zip(counts[0], counts[1], strict=True))


def test_the_threshold_curve_refuses_a_bad_threshold_naming_the_option() -> None:
    result = _curve("--thresholds", "0.7,high")
    assert result.returncode == 2
    assert "--thresholds: must be comma-separated numbers" in result.stderr


# --------------------------------------------------------------------------- in a decision


def test_a_paraphrase_the_rules_pass_is_flagged_and_the_search_goes_ahead(
    settings: Settings,
) -> None:
    text = "his permit ran out, where does the car sleep"
    reason, flags = decision(replace(settings, second_opinion=None), text)
    assert (reason, flags) == (None, [])
    reason, flags = decision(settings, text)
    assert reason is None
    assert [f[:3] for f in flags] == [("prohibited_purpose", "medium", "second opinion")]


def test_a_paraphrase_the_model_is_all_but_certain_of_is_refused_up_front(
    settings: Settings,
) -> None:
    text = "his tourist permit ran out in the spring, need where the car sleeps"
    assert decision(replace(settings, second_opinion=None), text) == (None, [])
    d = screen_search(replace(FACTS, justification=text), settings, NOW)
    assert (d.allowed, d.reason, d.rule) == (False, "prohibited_purpose", "prohibited_purpose")
    assert d.matched[0] == "second opinion" and len(d.matched) > 1
    assert "second opinion (prohibited_purpose: probability 0.9" in d.message


def test_the_model_is_not_asked_when_the_rules_refuse_or_already_flag_the_rule() -> None:
    always = so.SecondOpinion(so.Model({"w:x": 1.0}, 50.0, ()), 0.5, "prohibited_purpose", "low")
    base = load_settings(CONFIG)
    s = replace(base, second_opinion=always)
    reason, flags = decision(s, "per ICE request locate the vehicle")
    assert reason is not None and not any("second opinion" in f for f in flags)
    # A legitimate text: the always-yes model flags it (so it was asked).
    reason, flags = decision(s, "stolen vehicle reported by owner, case 26-1142")
    assert reason is None and ("prohibited_purpose", "low", "second opinion") in flags


def _sure(refuse_from: float | None) -> so.SecondOpinion:
    """A model that puts every text with the word ``zebra`` at 0.95, every other one near 0."""
    model = so.Model({"w:zebra": 50.0}, -47.05, ())
    assert round(so.probability(model, "the zebra"), 2) == 0.95
    return so.SecondOpinion(model, 0.7, "prohibited_purpose", "medium", refuse_from)


@pytest.mark.parametrize(
    ("refuse_from", "refused"), [(None, False), (1.0, False), (0.96, False), (0.95, True)]
)
def test_the_model_refuses_only_from_refuse_from(
    settings: Settings, refuse_from: float | None, refused: bool
) -> None:
    s = replace(settings, second_opinion=_sure(refuse_from))
    d = screen_search(replace(FACTS, justification="look for the zebra car"), s, NOW)
    if refused:
        assert (d.allowed, d.reason, d.rule) == (False, "prohibited_purpose", "prohibited_purpose")
        assert d.matched == ("second opinion", "zebra")
        assert "probability 0.95, refused from 0.95" in d.message
        assert d.flags == ()
    else:
        assert d.allowed
        assert [(f.rule, f.matched) for f in d.flags] == [
            ("prohibited_purpose", ("second opinion", "zebra"))
        ]


def test_a_refusal_by_the_model_wins_over_an_unknown_purpose_and_keeps_other_flags(
    settings: Settings,
) -> None:
    """A prohibited purpose is named as such even when the purpose code is also unknown, as a
    rule's refusal is; flags the rules raised for other rules ride along."""
    s = replace(settings, second_opinion=_sure(0.9))
    d = screen_search(
        replace(FACTS, purpose="immigration", justification="the zebra car seen at the rally"),
        s,
        NOW,
    )
    assert (d.reason, d.matched[0]) == ("prohibited_purpose", "second opinion")
    assert "protected_activity" in {f.rule for f in d.flags}


def test_a_text_the_model_finds_unlikely_carries_no_flag(settings: Settings) -> None:
    assert decision(settings, "vehicle stolen from the owner's driveway overnight") == (None, [])


# --------------------------------------------------------------------------- configuration


def _config(tmp_path: Path, body: str) -> Path:
    """A deployment config over the California profile, with ``body`` added to it."""
    return write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", body)


def _profile_config(tmp_path: Path, second_opinion: str) -> Path:
    """A config over a copy of the California profile whose [second_opinion] is ``body``."""
    profile = PROFILE.read_text(encoding="utf-8")
    profile = profile[: profile.index("[second_opinion]")] + second_opinion + "\n"
    profile = profile.replace(
        '"rules.california.toml"', f'"{PROFILE.parent / "rules.california.toml"}"'
    )
    (tmp_path / "profile.toml").write_text(profile, encoding="utf-8")
    config = _config(tmp_path, "")
    config.write_text(
        config.read_text().replace(
            f'profile = "{PROFILE}"', f'profile = "{tmp_path / "profile.toml"}"'
        )
    )
    return config


def test_the_california_profile_ships_a_second_opinion(settings: Settings) -> None:
    assert settings.second_opinion is not None
    assert settings.second_opinion.threshold == 0.7
    assert settings.second_opinion.refuse_from == 0.9
    assert settings.second_opinion.rule == "prohibited_purpose"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[second_opinion]\nmodel = "missing.json"\nthreshold = 0.9',
            r"second_opinion\.model: .*missing\.json: file not found",
        ),
        (
            f'[second_opinion]\nmodel = "{MODEL_FILE}"\nthreshold = 0.3',
            r"second_opinion\.threshold: must be between 0\.5 and 1",
        ),
        (
            f'[second_opinion]\nmodel = "{MODEL_FILE}"\nthreshold = 0.9\nrule = "nope"',
            r"second_opinion\.rule: must be a rule of the screening rules, not 'nope'",
        ),
        (
            f'[second_opinion]\nmodel = "{MODEL_FILE}"\nthreshold = 0.9\nseverity = "dire"',
            r"second_opinion\.severity: must be one of high, medium, low",
        ),
        (
            f'[second_opinion]\nmodel = "{MODEL_FILE}"\nthreshold = 0.9\ncolour = "red"',
            r"second_opinion\.colour: unknown key",
        ),
        (
            f'[second_opinion]\nmodel = "{MODEL_FILE}"\nthreshold = 0.9\nrefuse_from = 0.8',
            r"second_opinion\.refuse_from: must be at least the threshold \(0\.9\)",
        ),
        (
            f'[second_opinion]\nmodel = "{MODEL_FILE}"\nthreshold = 0.9\nrefuse_from = 1.5',
            r"second_opinion\.refuse_from: must be between 0\.5 and 1",
        ),
        (
            f'[second_opinion]\nmodel = "{MODEL_FILE}"\nthreshold = 0.9\nrefuse_from = "yes"',
            r"second_opinion\.refuse_from: must be a number, not str",
        ),
        (
            '[second_opinion]\nmodel = "bad.json"\nthreshold = 0.9',
            r"second_opinion\.model: .*bad\.json: is not a screening model",
        ),
        (
            '[second_opinion]\nmodel = "binary.json"\nthreshold = 0.9',
            r"second_opinion\.model: .*binary\.json: cannot be read",
        ),
    ],
)
def test_a_bad_second_opinion_is_a_configuration_error_naming_the_key(
    tmp_path: Path, body: str, message: str
) -> None:
    config = _profile_config(tmp_path, body)
    (tmp_path / "bad.json").write_text("[]", encoding="utf-8")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[second_opinion]\nthreshold = 0.99", r"second_opinion\.threshold: may only be lowered"),
        ('[second_opinion]\nmodel = "mine.json"', r"second_opinion\.model: is set by the profile"),
        ('[second_opinion]\nrule = "profiling"', r"second_opinion\.rule: is set by the profile"),
    ],
)
def test_a_deployment_cannot_loosen_the_profiles_second_opinion(
    tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message + r".*only allows tightening"):
        load_settings(_config(tmp_path, body))


def test_a_deployment_may_ask_for_more_flags(tmp_path: Path) -> None:
    second = load_settings(_config(tmp_path, "[second_opinion]\nthreshold = 0.7")).second_opinion
    assert second is not None and second.threshold == 0.7
    assert second.model.weights  # the profile's model, found beside the profile


def test_a_deployment_may_refuse_from_a_lower_probability_never_a_higher_one(
    tmp_path: Path,
) -> None:
    config = _profile_config(
        tmp_path, f'[second_opinion]\nmodel = "{MODEL_FILE}"\nthreshold = 0.7\nrefuse_from = 0.9'
    )
    base = config.read_text()
    config.write_text(base + "\n[second_opinion]\nrefuse_from = 0.8\n")
    assert (second := load_settings(config).second_opinion) is not None
    assert (second.threshold, second.refuse_from) == (0.7, 0.8)
    config.write_text(base + "\n[second_opinion]\nrefuse_from = 0.99\n")
    with pytest.raises(ConfigError, match=r"second_opinion\.refuse_from: may only be lowered"):
        load_settings(config)


def test_a_profile_that_only_flags_may_be_made_to_refuse(tmp_path: Path) -> None:
    """Refusing where the profile only flags is a tightening; loosening it back is not possible
    from the deployment (the profile's absence of ``refuse_from`` cannot be asked for)."""
    config = _profile_config(tmp_path, f'[second_opinion]\nmodel = "{MODEL_FILE}"\nthreshold = 0.8')
    assert (second := load_settings(config).second_opinion) is not None
    assert second.refuse_from is None
    config.write_text(config.read_text() + "\n[second_opinion]\nrefuse_from = 0.95\n")
    assert (second := load_settings(config).second_opinion) is not None
    assert second.refuse_from == 0.95


def test_a_retrained_model_is_a_policy_change(tmp_path: Path, toy: so.Model) -> None:
    (tmp_path / "m.json").write_text(so.dumps(toy), encoding="utf-8")
    config = _profile_config(tmp_path, '[second_opinion]\nmodel = "m.json"\nthreshold = 0.9')
    before = load_settings(config).policy_json
    retrained = so.train(TOY_TEXTS, TOY_LABELS, epochs=3)
    (tmp_path / "m.json").write_text(so.dumps(retrained), encoding="utf-8")
    after = load_settings(config).policy_json
    assert before != after
    assert json.loads(after)["second_opinion"]["model_sha256"] is not None
