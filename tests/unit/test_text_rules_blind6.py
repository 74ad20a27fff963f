"""The classes of miss blind 6 found, generalised: each class is tested with texts of its own
(other agencies, firms, places, wordings), never the blind set's strings, next to hard
legitimate texts with the same words that must stay clean.

False positives (legitimate text refused or flagged): firms named like an agency or an alien (a
guard service, a brewery), a victim's or witness's own arrival in the country, a past removal
given as background next to our own warrant, a reporting party's own words quoted ("my car"),
and a private party as the victim of a crime on the road.

Engine: an at sign starting a word is an a ("@bortion"); a shorthand letter with a slash ("w/")
after a dotted acronym stays out of it ("i.c.e w/ ..."); a digit acronym typed all in lower case
is read like one in capitals.

Refused up front: land-management officers (Forest Service, Park Service, BLM rangers) asking or
named as who the search is for, an agent on the line, a case said to be theirs and our login lent,
the FBI as "the Bureau", the search said to be pulled for a party, NICB agents, a PI asking with a
client; entry without inspection typed short, a person said to lack papers, a residence permit
revoked or run out (also in Spanish), wanting someone back in their country, a termination
abbreviated TOP with the weeks, Planned Parenthood abbreviated with a visit, a belief that she
ended a pregnancy, a clinic with a ban state's inquiry abbreviated.

Flagged: Pacific Islanders and religions as who people are, a place of worship with its service
day, an ex-partner with no owner named, a sergeant as the only reason.
"""

from __future__ import annotations

import time

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.text_rules import words_of
from alpr_guard.settings import Settings
from tests.unit.screening_cases import assert_clean, decide

# --------------------------------------------------------------------------- engine


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I.C.E w/o warrant", ("ice", "w", "o", "warrant")),
        ("h.s.i w/ us", ("hsi", "w", "us")),
        ("I/C/E asked", ("ice", "asked")),
        ("@bortion pill", ("abortion", "pill")),
    ],
)
def test_shorthand_slashes_and_at_signs_are_read(text: str, words: tuple[str, ...]) -> None:
    assert words_of(text) == words


@pytest.mark.parametrize(
    "text",
    [
        "help h.s.i w/ finding her van",
        "c.b.p w/ us on this, locate",
        "@bortion trip to LA, track her",
        "she had an @bortion last month, where did she go",
        # digit acronyms typed all in lower case
        "h51 agents asked for the reads",
        "3r0 team wants the van",
    ],
)
def test_evasions_the_engine_now_reads_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


def test_many_at_signs_and_slashes_scan_in_linear_time(settings: Settings) -> None:
    text = "@abcd i.c.e w/ " * 2000 + "stolen car"
    t0 = time.perf_counter()
    decide(settings, text)
    assert time.perf_counter() - t0 < 2.0


# --------------------------------------------------------------------------- prohibited


@pytest.mark.parametrize(
    "text",
    [
        # entry without inspection, typed short
        "came in wo inspection last year, find his truck",
        "crossed w out inspection, get the address",
        # a person said to lack papers
        "she might not have documents, where does she park",
        "family probably doesn't have papers, check the van",
        # a residence permit revoked or run out
        "green card got cancelled, find him before he leaves",
        "her work permit expired, locate the car",
        "permanent resident status rescinded, track the plate",
        # in Spanish
        "la residencia caducada, ubicar el carro",
        "permiso de trabajo vencido, buscar vehiculo",
        # wanting someone back in their country
        "family wants him sent back to Honduras, recent reads",
        "they need her returned to her country, where is the car",
        # care described without its name
        "TOP around 16 wks, where did she drive",
        "top at 22 weeks, confirm the trip",
        "PP Oakland appt, was her car there",
        "mom thinks she got rid of it, pregnant daughter's car, find where",
        "clinic visit, MS investigator wants to know if she was there",
    ],
)
def test_immigration_and_care_classes_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("National Park Service rangers want the hits", ReasonCode.FEDERAL_AGENCY),
        ("for the Forest Service, their LEO needs it", ReasonCode.FEDERAL_AGENCY),
        ("BLM ranger requested reads on the truck", ReasonCode.FEDERAL_AGENCY),
        ("ATF agent on the line, run it now", ReasonCode.FEDERAL_AGENCY),
        ("USSS, their investigation, using my login", ReasonCode.FEDERAL_AGENCY),
        ("ran reads for the Bureau, they need it", ReasonCode.FEDERAL_AGENCY),
        ("pulled history for DEA", ReasonCode.FEDERAL_AGENCY),
        ("per NICB investigator, locate the truck", ReasonCode.PRIVATE_ENTITY),
        ("PI wants hits, his client thinks the wife is cheating", ReasonCode.PRIVATE_ENTITY),
    ],
)
def test_parties_asking_are_refused_with_the_partys_code(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    "text",
    [
        "ATF agent on the phone said the shooter fled north, our 245 case",
        "DEA agent on the line advised the suspect moved, our homicide",
    ],
)
def test_an_agent_calling_with_information_is_flagged_not_refused(
    settings: Settings, text: str
) -> None:
    # Telling us about our own case asks for nothing: the mention is reviewed, not refused.
    reason, flags = decide(settings, text)
    assert reason is None and "federal_or_out_of_state_proxy" in flags, text


# --------------------------------------------------------------------------- flag classes


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Tongan guys outside the liquor store", "profiling"),
        ("Polynesian males in a truck by the school", "profiling"),
        ("Sikh driver parked late, run it", "profiling"),
        ("Hindu family moved in down the street", "profiling"),
        ("church lot sunday morning, who comes", "protected_activity"),
        ("mosque parking friday night, who shows up", "protected_activity"),
        ("ex wife, want to see where she's living now", "personal_use"),
        ("exbf just checking in on him", "personal_use"),
        ("per sgt", "vague_justification"),
        ("cpl said", "vague_justification"),
    ],
)
def test_flag_classes_are_flagged(settings: Settings, text: str, rule: str) -> None:
    assert rule in decide(settings, text)[1], text


# --------------------------------------------------------------------------- hard negatives


@pytest.mark.parametrize(
    "text",
    [
        # firms named like an agency or an alien
        "Alien Tacos food truck robbed, 211",
        "Homeland Security Guards company car stolen from lot",
        "aliens brewery vandalized overnight",
        "ICE Vapor shop burglary, suspect vehicle",
        # a victim's own arrival in the country
        "witness recently emigrated from Peru, saw the hit and run",
        "newly immigrated family victim of a residential 459",
        "victim just immigrated last year, robbed at the bus stop",
        # a past removal given as background
        "suspect was deported in 2019 (history only), now wanted on our 211 warrant",
        "prior deportation noted for background only; search is for the 187 suspect",
        # a reporting party's own words
        "caller said my truck was taken from the lot, 10851",
        "victim states my car was keyed at work, 594",
        "RP reports my van was broken into overnight",
        # a private party as the victim
        "private investigator run off the road, 245, suspect truck",
        "process server brandished at, 417, suspect car",
        # the parties' words in ordinary use
        "car stolen at the National Park Service lot, 10851",
        "burglary at the Forest Service station, suspect truck",
        "stolen ATV recovered on BLM land, 10851",
        "the bureau of automotive repair referred odometer fraud",
        "checked with the credit bureau about the stolen identity",
        "for the Detective Bureau, 459 series, suspect car",
        "requested by the bureau sgt for the robbery series",
        "ran plates for the robbery series, suspect vehicle",
        "park service ranger truck vandalized, 594 suspect",
        "ran this for our own 459 case, suspect car",
        "PI collision, client of the tow yard, no injuries",
        # permits, papers and tops that are not status
        "registration expired and no papers for the car",
        "business license revoked, stolen trailer recovered",
        "top of the hill, suspect car parked, 459",
        "PP 12 of the report lists the stolen items",
        "expired registration, papers not in the vehicle",
        # countries, care and worship in police work
        "suspect fled back to Mexico after the homicide, warrant",
        "pregnant victim of a hit and run, locate suspect car",
        "church burglarized sunday morning, suspect vehicle",
        "victim's ex boyfriend violated the restraining order",
        "suspect's ex girlfriend's car seen at the scene",
        "per sgt, 211 suspect vehicle, locate",
        "Samoan Baptist church van stolen, 10851",
        # lower-case codes that are not acronyms
        "3rd st and 1st ave, suspect car parked, 459",
        "partial plate 1ce, stolen car, 10851",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)
