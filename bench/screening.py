"""Benchmark and accuracy report: the justification screening (target: p99 <= 0.2 ms per call).

``scan`` runs on every search before anything else (services.search -> policy.screening) and,
nightly, over up to a million recorded searches (services.review). This times ``scan`` with the
shipped California rules (config/rules.california.toml, loaded by ``load_text_rules``) over every
labelled text, many rounds, one timer per call, with a case number as at search time, and times
the whole ``screen_search`` decision the same way. It prints p50/p99/max per call in
milliseconds and the throughput, separately for the "typical" 5-20 word reasons. Each call is
timed twice: wall clock, and the CPU time of the calling thread. On a machine shared with other
work (the load average is printed) the wall-clock tail is mostly time spent waiting for a CPU,
so the verdict is taken on the CPU-time p99 of scan and of screen_search (exit 1 if either
exceeds 0.2 ms); on an idle machine the two agree. Texts are never printed.

It also reports the accuracy of the decision ``screen_search`` takes on each labelled text
(purpose criminal_investigation, an in-state officer, nothing declared in on_behalf_of), for each
part of the labelled set:

  development  tests/data/justifications.csv             the rules may be tuned on it
  held-out     tests/data/justifications_heldout_evasion.csv   written before tuning, by someone
                                                          trying to evade; only ever scored
  held-out     tests/data/justifications_heldout.csv     written for another detector; scored
  development  tests/data/justifications_dev_blind2.csv   (blind 2) written blind (without
               reading the rules, engine or other sets) as a held-out part and scored once, with
               purpose and officer as here: prohibited refused up front 98/117 = 0.838 (target
               0.90), caught 99/117 = 0.846 (target 0.97), flag-worthy 30/38 = 0.789 (target
               0.90), false positives 2/105 = 0.019 (target <= 0.03). The rules were then tuned
               on it (on the classes of miss, not the strings), so it is development data now and
               says nothing about unseen text.
  development  tests/data/justifications_dev_blind3.csv   (blind 3) written blind by a third
               person while the rules were tuned on blind 2, scored once as a held-out part
               after that tuning: refused up front 115/133 = 0.865, caught 117/133 = 0.880,
               flag-worthy 57/70 = 0.814, false positives 6/112 = 0.054 -- short of every
               target. The rules were then tuned on its classes of miss, so it is development
               data now.
  development  tests/data/justifications_dev_blind3b.csv   texts written by the person tuning
               on blind 3, over the same classes in other words (half of them hard negatives):
               tuned on from the start.
  development  tests/data/justifications_dev_blind4.csv   (blind 4) 384 texts written blind
               by a fourth person (no rules, engine or other sets read) while the rules were
               tuned on blind 3, scored once as held-out after that tuning was frozen: refused
               up front 152/169 = 0.899, caught 153/169 = 0.905, flag-worthy 65/80 = 0.812,
               false positives 7/134 = 0.052 (one text also in a development part left out;
               with it, 153/170 = 0.900 refused) -- short of every target, refused by a hair.
               The rules were then tuned on its classes of miss, so it is development data now
               and says nothing about unseen text: the next blind part (scored with --extra)
               is the honest estimate.
  development  tests/data/justifications_dev_blind5.csv   (blind 5) 442 texts written blind
               by a fifth person (no rules, engine, tests or other sets read) while the rules
               were tuned on blind 4, trying to evade (homoglyphs, zero-width separators,
               Spanish, form numbers, euphemism, the act buried behind a case number) with 87
               hard negatives; scored once as held-out after that tuning was frozen: refused up
               front 163/180 = 0.906, caught 168/180 = 0.933, flag-worthy 70/88 = 0.795, false
               positives 1/158 = 0.006 (16 texts also in the development part left out) --
               caught and flag-worthy short of their targets. The rules were then tuned on its
               classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind6.csv   (blind 6) 475 texts written blind
               by a sixth person (only the public policy documents read: no rules, engine,
               tests or other sets) while the rules were tuned on blind 5, trying to evade
               (mixed separators, digit and Cyrillic look-alikes, zero-width and soft hyphens,
               sub-units, forms, detention sites, euphemism, Spanish) with 97 hard negatives;
               scored once as held-out after that tuning was frozen: refused up front 187/208 =
               0.899, caught 192/208 = 0.923, flag-worthy 94/99 = 0.949, false positives 6/164
               = 0.037 (4 texts also in the development part left out) -- refused by a hair,
               caught and false positives short of their targets. The rules were then tuned on
               its classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind7.csv   (blind 7) 480 texts written blind
               by a seventh person (only the public policy documents read) while the rules were
               tuned on blind 6, told to try what a filter's author is least likely to have
               foreseen: agencies by address, desk or uniform, slang, the process described
               instead of named, short phrases in Spanish, Tagalog, Vietnamese and Portuguese,
               split requests; 95 hard negatives. Scored once as held-out after that tuning was
               frozen, on the 469 texts the first development part does not hold: refused up
               front 188/216 = 0.870, caught 190/216 = 0.880, flag-worthy 81/92 = 0.880, false
               positives 6/161 = 0.037 -- no target met. The rules were then tuned on its
               classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind8.csv   (blind 8) 525 texts written blind
               by an eighth person (only the public policy documents read) while the rules were
               tuned on blind 7, aimed at indirect references, consequences, documents and
               timelines, other languages, and laundering through ordinary crimes; 146 hard
               negatives. Scored once as held-out with the rules and the second opinion as
               shipped then: refused up front 126/220 = 0.573, caught 183/220 = 0.832 (144/220
               by the rules alone; the second opinion caught 39 more), flag-worthy 89/109 =
               0.817, false positives 12/196 = 0.061 (11 by the rules) -- no target met. The
               rules were then tuned on its classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind9.csv   (blind 9) 502 texts written blind
               by a ninth person (only the public policy documents read) while the rules were
               tuned on blind 8, told to be an inventive evader: agencies by nickname, address,
               uniform or programme, the act by its consequence, statuses, documents and court
               timelines, care described obliquely, parties by role, ten languages; about 113
               hard negatives. Scored once as held-out with the rules and the second opinion as
               shipped then, on the 488 texts the first development part does not hold: refused
               up front 161/212 = 0.759, caught 192/212 = 0.906 (168/212 by the rules alone;
               the second opinion caught 24 more), flag-worthy 82/96 = 0.854, false positives
               9/180 = 0.050 (none from the second opinion) -- no target met. The rules were
               then tuned on its classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind10.csv   (blind 10) 525 texts written
               blind by a tenth person (only the public policy documents read) while the rules
               were tuned on blind 9, told to be an inventive evader and to write hard
               negatives; the writer's own flag reasons mapped onto the rule codes by the section
               each text was written in (fishing and curiosity: vague_justification; civil
               matters: non_criminal_use; protest, worship and press, written as prohibited:
               protected_activity, a flag here). Scored once as held-out, after the tuning on
               blind 9 and the second opinion's retraining, on the 511 texts the first
               development part does not hold: refused up front 161/208 = 0.774, caught
               185/208 = 0.889 (167/208 by the rules alone; the second opinion caught 18 more),
               flag-worthy 73/117 = 0.624, false positives 4/186 = 0.022 (none from the second
               opinion) -- the false-positive target met, the others not. The rules were then
               tuned on its classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind11.csv   (blind 11) 500 texts written
               blind by an eleventh person (only the public policy documents read) while the
               rules were tuned on blind 10, told to be an inventive evader, to write a third of
               the legitimate texts as hard negatives and to label with the rule codes. Scored
               once as held-out, after the tuning on blind 10 and the second opinion's
               retraining, on the 494 texts the first development part does not hold: refused up
               front 178/211 = 0.844, caught 195/211 = 0.924 (179/211 by the rules alone; the
               second opinion caught 16 more), flag-worthy 82/104 = 0.788, false positives
               11/179 = 0.061 (none from the second opinion) -- no target met. The rules were
               then tuned on its classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind12.csv   (blind 12) 502 texts written
               blind by a twelfth person (only the public policy documents read) while the
               rules were tuned on blind 11, told that the rules already know agency names,
               addresses, forms and look-alike letters and to go further: long routine texts
               with the purpose buried in them, purposes implied by who benefits, bureaucratic
               wording; a third of the legitimate texts hard negatives. Scored once as held-out,
               after the tuning on blind 11 and the second opinion's retraining, on the 501
               texts the first development part does not hold: refused up front 142/212 =
               0.670, caught 191/212 = 0.901 (158/212 by the rules alone; the second opinion
               caught 33 more), flag-worthy 88/109 = 0.807, false positives 19/180 = 0.106
               (none from the second opinion) -- no target met. The rules were then tuned on
               its classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind13.csv   (blind 13) 501 texts written
               blind by a thirteenth person (only the public policy documents read) while the
               rules were tuned on blind 12, told the same as blind 12's writer (bury the
               purpose in long routine text; relayed requests, euphemism, code-switching; a
               third of the legitimate texts hard negatives). Scored once as held-out, after the
               tuning on blind 12 and the second opinion's retraining, on the 486 texts the
               first development part does not hold: refused up front 148/211 = 0.701, caught
               189/211 = 0.896 (164/211 by the rules alone; the second opinion caught 25 more),
               flag-worthy 91/95 = 0.958, false positives 13/180 = 0.072 (none from the second
               opinion) -- the flag-worthy target met, the other three not. The rules were then
               tuned on its classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind14.csv   (blind 14) 500 texts written
               blind by a fourteenth person (only the published policy read) while the rules
               were tuned on blind 13, told what the rules already know (agency names and
               sub-units, look-alike letters, forms, Spanish, clinics, "on behalf of", buried
               purposes, liaisons) and to go further: new paraphrases, relays described by role,
               purposes stated as outcomes, care described by symptoms, timelines, pharmacy or
               mail, Tagalog and Vietnamese fragments, radio shorthand; 78 of the 190 legitimate
               texts hard negatives. Scored once as held-out, after the tuning on blind 13 and
               the second opinion's retraining, on the 494 texts the first development part does
               not hold: refused up front 148/210 = 0.705, caught 185/210 = 0.881 (153/210 by
               the rules alone; the second opinion caught 32 more), flag-worthy 78/94 = 0.830,
               false positives 5/190 = 0.026 (none from the second opinion) -- the
               false-positive target met, the other three not. The rules were then tuned on its
               classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind15.csv   (blind 15) 500 texts written
               blind by a fifteenth person (only the published policy read) while the rules
               were tuned on blind 14, told what earlier sets had used and to go further: new
               euphemisms and outcomes, form, statute and programme names, misspellings and
               texting shorthand, fragments in Korean, Chinese, Hindi, Russian, Arabic,
               Portuguese and Haitian Creole, the cue buried after a legitimate preamble, passive
               voice, records requests and welfare checks as cover, requesters hinted by area
               code or place, private parties by trade; 102 of the 190 legitimate texts hard
               negatives. Scored once as held-out, after the tuning on blind 14 and the second
               opinion's retraining, on all 500 texts (none is in the first development part):
               refused up front 144/210 = 0.686, caught 180/210 = 0.857 (149/210 by the rules
               alone; the second opinion caught 31 more), flag-worthy 85/100 = 0.850, false
               positives 12/190 = 0.063 (none from the second opinion) -- none of the four
               targets met. The rules were then tuned on its classes of miss, so it is
               development data now.
  development  tests/data/justifications_dev_blind16.csv   (blind 16) 500 texts written
               blind by a sixteenth person (only the published policy read), at the same time
               as blind 15 was scored, told what every earlier set had used (blind 15's angles
               too) and to go further: a purpose implied only by two innocent facts together,
               hedged and reported speech, the real beneficiary named only at the end, pasted
               conversations, bureaucratic euphemism, sarcasm, emoji, zero-width and combining
               characters, whole sentences in Farsi, Armenian, Punjabi, Japanese, Thai, Greek
               and Hebrew, other states' statutes, Mexican, tribal, military and university
               requesters; 95 of the 190 legitimate texts hard negatives. Scored once as
               held-out, with the same rules and second opinion as blind 15, on the 497 texts
               the first development part does not hold: refused up front 120/210 = 0.571,
               caught 163/210 = 0.776 (129/210 by the rules alone; the second opinion caught 34
               more), flag-worthy 77/97 = 0.794, false positives 8/190 = 0.042 (none from the
               second opinion) -- none of the four targets met; with the second opinion refusing
               from 0.9 and flagging from 0.7, refused up front 157/210, caught 184/210,
               flag-worthy 77/97, false positives 9/190. The rules were then tuned on its
               classes of miss, so it is development data now.
  development  tests/data/justifications_dev_blind17.csv   (blind 17) 500 texts written
               blind by a seventeenth person (only the published policy read) while the rules
               were tuned on blind 15 and blind 16, told every earlier set's angles and to go
               further: relays as mutual aid, fusion-centre or task-force deconfliction, uploads
               to a partner's system or analyst, vendor network sharing, less common federal
               requesters (land and wildlife agencies, inspectors general, probation, export
               control), an out-of-state officer who used to work here, forwarded and quoted
               emails, skip tracers, bondsmen, landlords, employers and journalists; removal by
               check-ins, ankle monitors, work permits, asylum, TPS, consulates and bond
               hearings; care by the trip to another state's city, doulas, midwives, pills by
               mail and a teenager's treatment; 95 of the 190 legitimate texts hard negatives.
               Scored once as held-out, after the tuning on blind 15 and blind 16 and the
               second opinion's retraining (flagging from 0.7, refusing from 0.9), on the 488
               texts the first development part does not hold: refused up front 187/209 =
               0.895 (159 by the rules alone; the second opinion refused 28 more), caught
               204/209 = 0.976 (164 by the rules alone), flag-worthy 81/89 = 0.910, false
               positives 5/190 = 0.026 (none from the second opinion) -- the caught,
               flag-worthy and false-positive targets met, refused up front two texts short.
               The rules were then tuned on its classes of miss and the second opinion trained
               on it, so it is development data now.
  held-out     tests/data/justifications_heldout_blind18.csv   (blind 18) 500 texts written
               blind by an eighteenth person (only the published policy read) after the tuning
               on blind 15 and blind 16, told every earlier set's angles, that a statistical
               model trained on them now reads every text too, and to go further: out-of-state
               agencies by their town alone and then by pronoun, rarer federal bodies and
               federal process (a case adopted federally, a grand jury), the recipient only by
               what it will do with the result, the cue split across two sentences, passive
               voice and nominalisations, CAD lines, teletype and memo registers, a supervisor
               approving someone else's request, a real local crime with a side request;
               removal by courts, detention centres, checkpoints, E-Verify and no-match
               letters; care by telehealth, a partner's questions, blockers and other states'
               civil suits; 93 of the 190 legitimate texts hard negatives. Scored once as
               held-out with the same rules and second opinion as blind 17, on the 493 texts
               the first development part does not hold: refused up front 169/210 = 0.805 (123
               by the rules alone; the second opinion refused 46 more), caught 198/210 = 0.943
               (139 by the rules alone), flag-worthy 74/93 = 0.796, false positives 11/190 =
               0.058 (one from the second opinion) -- none of the four targets met. After
               the tuning on blind 17 (never on this part): refused 176/210 = 0.838 (128 by
               the rules alone), caught 198/210, flag-worthy 75/93, false positives 11/190.
  held-out     tests/data/justifications_heldout_blind19.csv   (blind 19) 500 texts written
               blind by a nineteenth person (only the published policy read) while the rules
               were tuned on blind 17, told every earlier set's angles and that a statistical
               model reads every text, and to go further: questions instead of statements,
               form-style texts (requesting agency, purpose, deliver to), quoted phone messages,
               numbered steps with the prohibited one last, long texts with one decisive
               clause and very short ones, typos in the key words only, idioms; rarer federal
               bodies, towns in six states, private parties by trade, relays by a loaned login
               or a favour; care by the other parent's dispute, an out-of-state civil plaintiff,
               pills by mail, an abortion fund volunteer; 77 of the 190 legitimate texts hard
               negatives. Scored once as held-out, after the tuning on blind 17 and the second
               opinion's retraining, on the 488 texts the first development part does not hold:
               refused up front 178/210 = 0.848 (148 by the rules alone; the second opinion
               refused 30 more), caught 205/210 = 0.976 (157 by the rules alone), flag-worthy
               83/88 = 0.943, false positives 7/190 = 0.037 (two flags from the second opinion)
               -- the caught and flag-worthy targets met, refused up front and false positives
               not.

  An extra labelled CSV (columns text,label,rule) is scored as one more held-out part with
  ``--extra PATH`` (repeatable), every row of it, so a new blind set is scored without editing
  this file; rows that also occur in a development part are counted in the printout.

  prohibited refused   prohibited texts refused up front (prohibited_purpose, or the sharing
                       reason code of the party the text says the search is for)
  prohibited caught    ... refused, or at least flagged as prohibited_purpose or as a proxy
  flag-worthy caught   the labelled rule flagged (or the search refused on its text; for a
                       vague reason, also refused as junk: "?" is refused, not flagged)
  false positives      legitimate texts refused or flagged at all

    .venv/bin/python bench/screening.py [--rounds N] [--accuracy-only] [--extra PATH ...]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from alpr_guard.policy.decisions import Decision, ReasonCode  # noqa: E402
from alpr_guard.policy.screening import SearchFacts, screen_search  # noqa: E402
from alpr_guard.policy.sharing import AgencyFacts  # noqa: E402
from alpr_guard.policy.text_rules import TextRules, load_text_rules, scan  # noqa: E402
from alpr_guard.settings import Settings, load_settings  # noqa: E402

RULES = ROOT / "config" / "rules.california.toml"
CONFIG = ROOT / "config" / "alpr_guard.toml"
DATA = ROOT / "tests" / "data"
PARTS = {
    "development": DATA / "justifications.csv",
    "held-out (evasion)": DATA / "justifications_heldout_evasion.csv",
    "held-out (other detector)": DATA / "justifications_heldout.csv",
    "development (blind 2)": DATA / "justifications_dev_blind2.csv",
    "development (blind 3)": DATA / "justifications_dev_blind3.csv",
    "development (blind 3b)": DATA / "justifications_dev_blind3b.csv",
    "development (blind 4)": DATA / "justifications_dev_blind4.csv",
    "development (blind 5)": DATA / "justifications_dev_blind5.csv",
    "development (blind 6)": DATA / "justifications_dev_blind6.csv",
    "development (blind 7)": DATA / "justifications_dev_blind7.csv",
    "development (blind 8)": DATA / "justifications_dev_blind8.csv",
    "development (blind 9)": DATA / "justifications_dev_blind9.csv",
    "development (blind 10)": DATA / "justifications_dev_blind10.csv",
    "development (blind 11)": DATA / "justifications_dev_blind11.csv",
    "development (blind 12)": DATA / "justifications_dev_blind12.csv",
    "development (blind 13)": DATA / "justifications_dev_blind13.csv",
    "development (blind 14)": DATA / "justifications_dev_blind14.csv",
    "development (blind 15)": DATA / "justifications_dev_blind15.csv",
    "development (blind 16)": DATA / "justifications_dev_blind16.csv",
    "development (blind 17)": DATA / "justifications_dev_blind17.csv",
    "held-out (blind 18)": DATA / "justifications_heldout_blind18.csv",
    "held-out (blind 19)": DATA / "justifications_heldout_blind19.csv",
}
DEVELOPMENT_PARTS = (
    "development",
    "development (blind 2)",
    "development (blind 3)",
    "development (blind 3b)",
    "development (blind 4)",
    "development (blind 5)",
    "development (blind 6)",
    "development (blind 7)",
    "development (blind 8)",
    "development (blind 9)",
    "development (blind 10)",
    "development (blind 11)",
    "development (blind 12)",
    "development (blind 13)",
    "development (blind 14)",
    "development (blind 15)",
    "development (blind 16)",
    "development (blind 17)",
)
P99_LIMIT_MS = 0.2
CASE_NUMBER = "26-004512"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
T = TypeVar("T")
HOME = AgencyFacts("CA0199900", "Demo City PD", "local", "CA", True, None)
FACTS = SearchFacts(
    purpose="criminal_investigation",
    justification="",
    case_number=CASE_NUMBER,
    window_from=NOW - timedelta(days=7),
    window_to=NOW,
    requester=HOME,
    on_behalf_of=None,
    on_behalf_agency=None,
)
TEXT_REFUSALS = frozenset(
    {
        ReasonCode.PROHIBITED_PURPOSE,
        ReasonCode.FEDERAL_AGENCY,
        ReasonCode.OUT_OF_STATE_AGENCY,
        ReasonCode.PRIVATE_ENTITY,
    }
)
PROHIBITED_RULES = frozenset({"prohibited_purpose", "federal_or_out_of_state_proxy"})


@dataclass(frozen=True)
class Score:
    """Counts for one part of the labelled set (see the module docstring for the measures)."""

    totals: Counter[str]
    refused: int
    caught: int
    junk: int
    flagged: int
    false_positives: int
    misses: tuple[tuple[str, str, str], ...]  # (label, rule, what happened); texts stay out

    def rate(self, hits: int, label: str) -> float:
        return hits / self.totals[label] if self.totals[label] else float("nan")


def decide(settings: Settings, text: str) -> Decision:
    # The purpose and the officer are fixed and in order, so only the text decides.
    return screen_search(replace(FACTS, justification=text), settings, NOW)


def score(settings: Settings, rows: Sequence[dict[str, str]]) -> Score:
    totals: Counter[str] = Counter()
    refused = caught = junk = flagged = false_positives = 0
    misses: list[tuple[str, str, str]] = []
    for row in rows:
        label, rule = row["label"], row["rule"]
        totals[label] += 1
        d = decide(settings, row["text"])
        text_refused = not d.allowed and d.reason in TEXT_REFUSALS
        raised = {f.rule for f in d.flags}
        if label == "prohibited":
            refused += text_refused
            ok = text_refused or bool(raised & (PROHIBITED_RULES | {rule}))
            caught += ok
        elif label == "refuse_junk":
            ok = d.reason == ReasonCode.JUSTIFICATION_REQUIRED or "vague_justification" in raised
            junk += ok
        elif label == "flag":
            # A reason too empty to flag as vague may be junk, refused outright: stronger still.
            junk_refused = d.reason == ReasonCode.JUSTIFICATION_REQUIRED
            ok = rule in raised or text_refused or (rule == "vague_justification" and junk_refused)
            flagged += ok
        else:
            ok = d.allowed and not d.flags
            false_positives += not ok
        if not ok:
            what = f"{d.reason or 'allowed'} {sorted(raised)}"
            misses.append((label, rule, what))
    return Score(totals, refused, caught, junk, flagged, false_positives, tuple(misses))


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def part_rows(part: str) -> tuple[list[dict[str, str]], int]:
    """The rows of one part, and how many were left out: a held-out part is scored only on texts
    the development part does not also hold (the rules may have been tuned on those)."""
    rows = read_rows(PARTS[part])
    if part in DEVELOPMENT_PARTS:
        return rows, 0
    # Against the first development part only, as before the blind sets were moved: the figures
    # of the held-out parts stay comparable (a few of their texts also occur, by chance, in the
    # later development parts; they were caught before those were tuned on).
    seen = {row["text"].casefold() for row in read_rows(PARTS["development"])}
    kept = [row for row in rows if row["text"].casefold() not in seen]
    return kept, len(rows) - len(kept)


LABELS = frozenset({"prohibited", "flag", "legitimate", "refuse_junk"})


def extra_rows(path: Path) -> list[dict[str, str]]:
    """The rows of an extra labelled CSV (text,label,rule), checked: a typo in a label must not
    quietly drop a text from every measure."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"text", "label"} - set(reader.fieldnames or ())
        if missing:
            raise SystemExit(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        rows = []
        for n, row in enumerate(reader, start=2):
            label = (row.get("label") or "").strip()
            if label not in LABELS:
                raise SystemExit(f"{path}, line {n}: label must be one of {sorted(LABELS)}")
            rows.append(
                {"text": row["text"] or "", "label": label, "rule": (row.get("rule") or "").strip()}
            )
    return rows


def print_score(name: str, s: Score, also: str) -> None:
    t = s.totals
    print(f"  {name}: {sum(t.values())} texts{also} {dict(sorted(t.items()))}")
    print(
        f"    prohibited refused up front {s.refused}/{t['prohibited']} "
        f"= {s.rate(s.refused, 'prohibited'):.3f}   caught {s.caught}/{t['prohibited']} "
        f"= {s.rate(s.caught, 'prohibited'):.3f}"
    )
    print(
        f"    flag-worthy caught {s.flagged}/{t['flag']} = {s.rate(s.flagged, 'flag'):.3f}   "
        f"false positives {s.false_positives}/{t['legitimate']} "
        f"= {s.rate(s.false_positives, 'legitimate'):.3f}"
        + (f"   junk refused or flagged {s.junk}/{t['refuse_junk']}" if t["refuse_junk"] else "")
    )


def accuracy_report(settings: Settings, extras: Sequence[Path] = ()) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    print("accuracy of screen_search (purpose criminal_investigation, in-state officer):")
    for part, path in PARTS.items():
        rows, dropped = part_rows(part)
        s = score(settings, rows)
        scores[part] = s
        also = f", {dropped} more also in the development part not scored" if dropped else ""
        print_score(f"{part} ({path.name})", s, also)
    developed = {
        row["text"].casefold() for part in DEVELOPMENT_PARTS for row in read_rows(PARTS[part])
    }
    for path in extras:
        rows = extra_rows(path)
        s = score(settings, rows)
        name = f"held-out (extra: {path.name})"
        scores[name] = s
        overlap = sum(row["text"].casefold() in developed for row in rows)
        print_score(name, s, f", every row scored ({overlap} also in a development part)")
    return scores


def percentile(sorted_ns: Sequence[int], q: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    rank = max(0, min(len(sorted_ns) - 1, round(q * len(sorted_ns)) - 1))
    return sorted_ns[rank] / 1e6


def measure(
    call: Callable[[T], object], texts: Sequence[T], rounds: int
) -> tuple[list[int], list[int]]:
    """(wall-clock samples, thread CPU-time samples) in ns, one per call, each sorted."""
    for text in texts:  # warm up: first calls pay for imports and caches
        call(text)
    wall: list[int] = []
    cpu: list[int] = []
    clock, thread = time.perf_counter_ns, time.thread_time_ns
    for _ in range(rounds):
        for text in texts:
            c0 = thread()
            t0 = clock()
            call(text)
            t1 = clock()
            cpu.append(thread() - c0)
            wall.append(t1 - t0)
    wall.sort()
    cpu.sort()
    return wall, cpu


def report(label: str, samples: tuple[list[int], list[int]]) -> float:
    """Print the wall-clock and CPU-time figures; return the CPU-time p99 (ms)."""
    wall, cpu = samples
    throughput = len(wall) / (sum(wall) / 1e9)
    print(
        f"  {label:34} calls={len(wall):>7,}  wall p50={percentile(wall, 0.50):.4f} "
        f"p99={percentile(wall, 0.99):.4f} max={wall[-1] / 1e6:.3f} ms | cpu "
        f"p50={percentile(cpu, 0.50):.4f} p99={percentile(cpu, 0.99):.4f} "
        f"max={cpu[-1] / 1e6:.3f} ms  {throughput:,.0f} calls/s"
    )
    return percentile(cpu, 0.99)


def timing_report(rules: TextRules, settings: Settings, rounds: int, load_ms: float) -> bool:
    texts = [row["text"] for path in PARTS.values() for row in read_rows(path)]
    typical = [t for t in texts if 5 <= len(t.split()) <= 20]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"screening text rules | python {platform.python_version()} on {platform.machine()} "
        f"({os.cpu_count()} CPUs, load average {load:.1f}) | {len(texts)} labelled texts "
        f"({len(typical)} of 5-20 words) x {rounds} rounds | rules loaded in {load_ms:.0f} ms"
    )
    p99 = report(
        "scan, with case number",
        measure(lambda t: scan(rules, t, CASE_NUMBER), texts, rounds),
    )
    report("scan, no case number", measure(lambda t: scan(rules, t), texts, rounds))
    typical_samples = measure(lambda t: scan(rules, t, CASE_NUMBER), typical, rounds)
    report("scan, 5-20 words, with case number", typical_samples)
    whole = report(
        "screen_search (whole decision)",
        # The facts are built beforehand: building them is the search service's work, not the
        # screening's.
        measure(
            lambda facts: screen_search(facts, settings, NOW),
            [replace(FACTS, justification=t) for t in texts],
            rounds,
        ),
    )
    per_call_s = sum(typical_samples[1]) / len(typical_samples[1]) / 1e9
    print(f"  nightly review estimate: 1,000,000 typical reasons in {per_call_s * 1e6:.1f} s")
    ok = p99 <= P99_LIMIT_MS and whole <= P99_LIMIT_MS
    verdict = "PASS" if ok else "FAIL"
    print(
        f"{verdict}: CPU-time p99 scan {p99:.4f} ms, screen_search {whole:.4f} ms "
        f"(limit {P99_LIMIT_MS} ms)"
    )
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--accuracy-only", action="store_true")
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="a labelled CSV (text,label,rule) scored as one more held-out part; repeatable",
    )
    args = parser.parse_args(argv)
    for path in args.extra:
        if not path.is_file():
            parser.error(f"--extra {path}: no such file")

    t0 = time.perf_counter()
    rules = load_text_rules(tomllib.loads(RULES.read_text(encoding="utf-8")), str(RULES))
    load_ms = (time.perf_counter() - t0) * 1e3
    settings = load_settings(CONFIG)
    accuracy_report(settings, args.extra)
    if args.accuracy_only:
        return 0
    return 0 if timing_report(rules, settings, args.rounds, load_ms) else 1


if __name__ == "__main__":
    sys.exit(main())
