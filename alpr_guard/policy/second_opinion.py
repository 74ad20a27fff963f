"""A second opinion on a justification the word lists found nothing prohibited in.

The screening rules (``text_rules``) refuse what they recognise, and only what they recognise:
a phrasing nobody foresaw ("so he can be sent back", "before his hearing downtown") passes them.
This is a small statistical model, a logistic regression over the text's words and word pairs,
trained on the labelled justifications the rules are developed on. When it finds a text that the
rules passed likely to serve a prohibited purpose, the search carries a flag, so an auditor reads
it the same day; when it is all but certain (``refuse_from``, if configured), the search is
refused up front like a rule's refusal, naming the words that weighed most towards it.

Why it may refuse at all: data released to a prohibited purpose cannot be called back, while a
lawful search wrongly refused costs its officer a clearer sentence (and the refused attempt is
reviewed like every other). Trained without the part it was scored on, in turn for each
development part of the labelled set, the model put none of 3,021 legitimate texts at 0.9 or
above (``tools/second_opinion_curve.py`` prints these counts for any threshold); on blind sets
it had never seen, it refused 28, 46 and 30 of the 210 or so prohibited texts each held that the
word lists passed, and refused no legitimate text (it flagged three of 570).

Its input is the text as the rules see it (``words_of``: look-alike letters folded, spaced and
dotted acronyms joined, case dropped), so spelling tricks the rules undo are undone here too.

A model file is JSON written by ``train`` (via ``tools/train_screening_model.py``); the
thresholds and what a flag is called come from the configuration.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from alpr_guard.policy.text_rules import words_of

FORMAT = "alpr_guard.screening_model"
VERSION = 1
_DIGITS = re.compile(r"[0-9]+")
_TOP = 3  # words reported with a flag: the ones that weighed most towards it
_STEM = 5  # letters of a longer word that also count on their own (``features``)


@dataclass(frozen=True)
class Model:
    """Weights by feature (absent features weigh nothing), and the intercept."""

    weights: Mapping[str, float] = field(repr=False)
    bias: float
    trained_on: tuple[tuple[str, int], ...]  # (part of the labelled set, texts)


@dataclass(frozen=True)
class SecondOpinion:
    """A model and how it is used: the probability from which a text is flagged, the one from
    which it is refused (None: never), and the rule and severity the flag or refusal carries."""

    model: Model
    threshold: float
    rule: str
    severity: str
    refuse_from: float | None = None


@dataclass(frozen=True)
class Opinion:
    """What the model said of a text it flags or refuses: the label ``second opinion`` and the
    words that weighed most towards a prohibited purpose, its probability, and whether that
    reaches the configured refusal."""

    matched: tuple[str, ...]
    probability: float
    refuses: bool


def features(words: Sequence[str]) -> set[str]:
    """Words ("w:"), adjacent word pairs ("p:") and the first five letters of every longer word
    ("s:"), as a set: a word said twice counts once; every run of digits is one 0 ("case
    25-0441" is "case 0 0").

    The five-letter stems let one form of a word stand for its others ("deport" for
    "deported", "deportation", "deportee"), so a text that words the act differently from
    every training text still weighs: with each part left out in turn (all 17 development
    parts, tools/second_opinion_curve.py's method), the model alone put 2,607 of 3,459
    prohibited texts at 0.9 or more with no legitimate text there, against 2,589 and one
    without stems, and at 0.7 3,179 against 3,153, with 7 legitimate texts against 10.
    (Letter sequences inside words were tried too: on a blind set they caught two more of 219
    prohibited texts for one more false positive, at twice the time per text; word pairs one
    word apart caught fewer.)"""
    # Digits are one digit: case numbers and dates say nothing in themselves, and a plate typed
    # into a training text must not end up in the model file.
    shaped = [w if w.isalpha() else _DIGITS.sub("0", w) for w in words]
    out = {f"w:{w}" for w in shaped}
    out.update(f"p:{a} {b}" for a, b in pairwise(shaped))
    out.update(f"s:{w[:_STEM]}" for w in shaped if len(w) > _STEM and w.isalpha())
    return out


def _score(model: Model, feats: Iterable[str]) -> tuple[float, list[tuple[float, str]]]:
    get = model.weights.get  # (one look-up per feature: the model is large, the text's words few)
    found = [(w, f) for f in feats if (w := get(f)) is not None]
    # Features are binary and scaled by 1/sqrt(count), so a long text does not outweigh a short
    # one by its length alone (the same scaling as in training).
    scale = 1.0 / math.sqrt(max(1, len(found)))
    return model.bias + scale * sum(w for w, _ in found), found


def probability(model: Model, text: str) -> float:
    """The model's probability that ``text`` serves a prohibited purpose."""
    z, _ = _score(model, features(words_of(text)))
    return _sigmoid(z)


def opinion(second: SecondOpinion, words: Sequence[str]) -> Opinion | None:
    """None below the flag threshold; otherwise what the flag or refusal reports: the words that
    weighed most towards a prohibited purpose (words of the text, never letter fragments), after
    a label naming the model.

    ``words`` are the text's as the rules see it (``words_of``); the screening passes the ones
    its scan already made rather than normalising the text a second time."""
    if not words:
        return None
    z, found = _score(second.model, features(words))
    p = _sigmoid(z)
    if p < second.threshold:
        return None
    # Words with a digit are never reported: a plate typed into the text must not reach the
    # flag (and from it the review and the audit record) in clear.
    # Stems are never reported either: a flag names words of the text, not fragments of them.
    toward = sorted(
        (
            (w, f)
            for w, f in found
            if w > 0 and not f.startswith("s:") and not any(c.isdigit() for c in f)
        ),
        key=lambda x: -x[0],
    )
    refuses = second.refuse_from is not None and p >= second.refuse_from
    return Opinion(("second opinion", *(f[2:] for _, f in toward[:_TOP])), p, refuses)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


# --------------------------------------------------------------------------- training


def train(
    texts: Sequence[str],
    labels: Sequence[bool],
    *,
    parts: Sequence[tuple[str, int]] = (),
    epochs: int = 30,
    rate: float = 0.5,
    l2: float = 1e-3,
    keep: float = 1e-3,
) -> Model:
    """Fit the logistic regression by AdaGrad, deterministically (texts in a fixed order each
    epoch, shuffled by a fixed rule), with the two classes weighed equally; weights smaller
    than ``keep`` are dropped from the model."""
    rows = [sorted(features(words_of(t))) for t in texts]
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        raise ValueError("training needs texts of both classes")
    class_weight = {True: len(labels) / (2 * positives), False: len(labels) / (2 * negatives)}
    w: dict[str, float] = {}
    g2: dict[str, float] = {}
    bias = 0.0
    bias_g2 = 0.0
    order = list(range(len(rows)))
    for epoch in range(epochs):
        # A fixed permutation per epoch (a stride coprime to the length): no random state.
        stride = _coprime_stride(len(order), epoch)
        for step in range(len(order)):
            k = order[(step * stride) % len(order)]
            feats, y = rows[k], labels[k]
            scale = 1.0 / math.sqrt(max(1, len(feats)))
            z = bias + scale * sum(w.get(f, 0.0) for f in feats)
            grad = (_sigmoid(z) - (1.0 if y else 0.0)) * class_weight[y]
            for f in feats:
                old = w.get(f, 0.0)
                g = grad * scale + l2 * old
                g2[f] = acc = g2.get(f, 0.0) + g * g
                w[f] = old - rate * g / math.sqrt(acc)
            bias_g2 += grad * grad
            bias -= rate * grad / math.sqrt(bias_g2)
    kept = {f: round(v, 4) for f, v in sorted(w.items()) if abs(v) >= keep}
    return Model(kept, round(bias, 4), tuple(parts))


def _coprime_stride(n: int, epoch: int) -> int:
    stride = 7919 + 2 * epoch  # odd, and moved each epoch
    while math.gcd(stride, n) != 1:
        stride += 2
    return stride


# --------------------------------------------------------------------------- file format


def dumps(model: Model) -> str:
    """The model as the JSON file the configuration names (sorted, one feature per line)."""
    head = {
        "format": FORMAT,
        "version": VERSION,
        "trained_on": [list(p) for p in model.trained_on],
        "bias": model.bias,
    }
    lines = [json.dumps(head, sort_keys=True)[:-1] + ', "weights": {']
    items = sorted(model.weights.items())
    for k, (feature, weight) in enumerate(items):
        comma = "," if k < len(items) - 1 else ""
        lines.append(f"  {json.dumps(feature)}: {weight}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def loads(text: str) -> Model:
    """Parse a model file; ``ValueError`` naming what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"is not a screening model (format must be {FORMAT!r})")
    if data.get("version") != VERSION:
        raise ValueError(f"version must be {VERSION}")
    weights = data.get("weights")
    bias = data.get("bias")
    if not isinstance(weights, dict) or not weights:
        raise ValueError("weights: must be a non-empty object of feature: number")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in weights.values()):
        raise ValueError("weights: every weight must be a number")
    if not isinstance(bias, int | float) or isinstance(bias, bool):
        raise ValueError("bias: must be a number")
    trained = data.get("trained_on", [])
    if not isinstance(trained, list) or not all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], int)
        for p in trained
    ):
        raise ValueError("trained_on: must be a list of [part, count]")
    return Model(
        {str(k): float(v) for k, v in weights.items()},
        float(bias),
        tuple((p[0], p[1]) for p in trained),
    )
