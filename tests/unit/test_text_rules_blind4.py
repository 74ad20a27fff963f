"""The classes of miss blind 4 found, generalised: each class is tested with texts of its own
(other agencies, facilities, wordings, Spanish), never the blind set's strings, next to the hard
legitimate texts of the same words that must stay clean.

Engine: letters spaced out with a wider gap between words ("I  C  E   O P S") and a capitals
word with a letter held down and others doubled ("IIICEE"). Rules: detention logistics, removal
in statutory words, ICE operations by name, gender-affirming care named by its medicine,
abortion providers by name, who drove her, a pregnancy ended out of sight; requesters typed
"req from", other states' cities and inspectors general, a party asking through a pronoun, the
press as requester; mentions of another state's link, of the NICB, a bank's investigator or the
Postal Inspection Service (flagged); and the flag classes (a repo said not to be a theft, a
child exchange, a debt owed to the officer, a march, the press at work, "fyi").
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.text_rules import load_text_rules, scan, words_of
from alpr_guard.settings import Settings
from tests.unit.screening_cases import RULES_FILE, assert_clean, decide

RAW: dict[str, Any] = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
RULES = load_text_rules(RAW, str(RULES_FILE))


def refused(text: str) -> bool:
    return any(m.rule == "prohibited_purpose" and m.action == "refuse" for m in scan(RULES, text))


# --------------------------------------------------------------------------- engine


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I  C  E   O P S  target", ("ice", "ops", "target")),
        ("H S I   a g e n t", ("hsi", "agent")),
        ("E  R  O     h o l d", ("ero", "hold")),
        # the same gap everywhere says nothing about where a word ends
        ("U  S  C  I  S  target", ("uscis", "target")),
        ("IIICEE ops", ("ice", "ops")),
        ("HHHSSII wants", ("hsi", "wants")),
    ],
)
def test_spaced_letters_and_held_down_capitals_read_as_words(
    text: str, words: tuple[str, ...]
) -> None:
    assert words_of(text) == words


def test_ordinary_spacing_and_held_down_words_are_unchanged() -> None:
    assert words_of("stolen  car,   two  spaces") == ("stolen", "car", "two", "spaces")
    assert words_of("noooo way") == ("no", "way")
    assert words_of("ICEE machine") == ("icee", "machine")  # the slushie, held down nowhere


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    acronym=st.sampled_from(["ICE", "HSI", "CBP", "ERO", "USCIS"]),
    word=st.sampled_from(["OPS", "TFO", "HOLD", "REQ"]),
    inner=st.integers(1, 3),
    extra=st.integers(1, 3),
)
def test_any_wider_gap_between_two_spaced_words_splits_them(
    acronym: str, word: str, inner: int, extra: int
) -> None:
    # Each word's letters a fixed gap apart, the words a wider gap apart: the acronym is read.
    gap = " " * inner
    text = gap.join(acronym) + " " * (inner + extra) + gap.join(word) + " vehicle"
    assert words_of(text)[:2] == (acronym.lower(), word.lower())
    assert refused(text), text


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    acronym=st.sampled_from(["ICE", "HSI", "CBP"]),
    held=st.integers(0, 2),
    times=st.integers(3, 5),
    doubled=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_a_held_down_letter_with_others_doubled_is_read(
    acronym: str, held: int, times: int, doubled: list[bool]
) -> None:
    typed = "".join(
        c * (times if k == held else 2 if twice else 1)
        for k, (c, twice) in enumerate(zip(acronym, doubled, strict=True))
    )
    assert refused(f"{typed} wants hits on this plate"), typed


# --------------------------------------------------------------------------- immigration acts


@pytest.mark.parametrize(
    "text",
    [
        # detention logistics at the California facilities (English and Spanish)
        "Otay Mesa has beds open, grab him",
        "transfer subj to Mesa Verde tonight, need veh",
        "ICE bed space confirmed, pick up",
        "cama disponible en Adelanto, recoger al sujeto",
        # removal in statutory words, abbreviated and in Spanish, next to a vehicle
        "reinstatement of removal, find his truck",
        "withholding of removal denied, locate vehicle",
        "amenable to removal, where is his car",
        "exp removal, find veh",
        "deportacion acelerada, localizar vehiculo",
        # ICE operations by name
        "Operation Midway Blitz follow up",
        "op return to sender list, 6 plates",
        "Opn Tidal Wave target vehicle",
    ],
)
def test_detention_removal_and_operations_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "Adelanto 459 suspect vehicle",
        "transport to Adelanto HDDC for county booking",
        "bed space at county jail full, transport suspect",
        "removal of abandoned vehicle, expired reg",
        "operation cross check of parking permits",
        "cross check plate with DMV records, stolen car",
        # businesses that share an acronym with an agency, as victims
        "HSI Plumbing van stolen from yard",
        "ICE Refrigeration truck burglarized",
        "CBP Construction site theft, suspect pickup",
        "alarm company HSI Security reports 459",
        "Alien Museum gift shop vandalized, suspect car",
        # a victim's or witness's status, a relative's history, a suspect's citizenship
        "victim was undocumented, robbed at gunpoint, find suspect",
        "witness is an immigrant, saw the hit and run vehicle",
        "victim said her husband was deported, we need the carjacker's car",
        "the suspect is a US citizen, 211 series",
        # overstays that are a guest's, a tenant's or a car's
        "guest overstayed at the motel, 537 PC, left without paying",
        "tenant overstayed lease, burglary of unit",
    ],
)
def test_the_same_words_in_police_work_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


def test_a_suspects_citizenship_asked_is_still_refused(settings: Settings) -> None:
    # (the exclusion is the statement "the suspect is a citizen", not the question)
    assert decide(settings, "is the driver a US citizen, locate")[0] == (
        ReasonCode.PROHIBITED_PURPOSE
    )
    assert decide(settings, "he overstayed his visa, locate")[0] == ReasonCode.PROHIBITED_PURPOSE


# --------------------------------------------------------------------------- care


@pytest.mark.parametrize(
    "text",
    [
        "puberty blockers for 14yo, parents crossed from Idaho, track car",
        "teen on testosterone, out of state parent wants trips documented",
        "estradiol appts at the clinic, log her visits",
        "spironolactone rx, where does she drive for appts",
        "tratamiento hormonal, documentar sus visitas",
        "she went to FPA Women's Health, who drove her",
        "took her to Whole Woman's Health, find the driver",
        "prego girl from Texas, went to clinic, locate",
        "preggo woman came from Idaho to terminate, run plate",
        "pregnant, came to California to take care of it, find car",
    ],
)
def test_care_by_its_medicine_provider_or_ride_is_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "testosterone sales, anabolic steroids, dealer car",
        "pharmacy burglary, hormone meds taken, suspect veh",
        "estrogen stolen in pharmacy burglary",
        "pregnant victim assaulted, suspect fled in car",
        "missing pregnant teen, at risk, last seen in bf's car",
        "Family Planning clinic vandalized, suspect vehicle",
        "who drove her home after the DUI crash",
    ],
)
def test_drug_cases_victims_and_crimes_against_clinics_stay_clean(
    settings: Settings, text: str
) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- requesters


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("rqst by Arizona DPS, email results", ReasonCode.OUT_OF_STATE_AGENCY),
        ("req from Boise PD det", ReasonCode.OUT_OF_STATE_AGENCY),
        ("for Elko SO, they need his whereabouts", ReasonCode.OUT_OF_STATE_AGENCY),
        ("Medford PD asked for plate hits", ReasonCode.OUT_OF_STATE_AGENCY),
        ("for SSA OIG, benefits fraud subj", ReasonCode.FEDERAL_AGENCY),
        ("per USDA OIG agent", ReasonCode.FEDERAL_AGENCY),
        ("for the U.S. Postal Inspection Service", ReasonCode.FEDERAL_AGENCY),
        ("Smith Bail Bonds, they need his location", ReasonCode.PRIVATE_ENTITY),
        ("ABC Insurance SIU, they need the hits", ReasonCode.PRIVATE_ENTITY),
        ("KTLA reporter asked where this car was last week", ReasonCode.PRIVATE_ENTITY),
        ("journalist wants the hits for a story", ReasonCode.PRIVATE_ENTITY),
    ],
)
def test_a_party_the_search_is_for_is_refused_with_its_code(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    "text",
    [
        "burglary series, suspect wanted in Oregon",
        "same MO as cases in Phoenix per bulletin",
        "Arizona has related cases, our 211",
        "warrant out of Texas, local traffic stop",
        "NICB hit on VIN, our stolen report",
        "card fraud, bank fraud team gave us the plate",
        "stolen mail, postal inspection service aware",
        "SSA OIG involved, our fraud case",
    ],
)
def test_a_party_only_mentioned_is_flagged_not_refused(settings: Settings, text: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and "federal_or_out_of_state_proxy" in flags, text


@pytest.mark.parametrize(
    "text",
    [
        # another state's plates, residents or roads in our own crime
        "Reno resident's car stolen here, 10851",
        "Nevada plated vehicle stolen in our city",
        "series of thefts, Oregon plates on suspect car",
        "suspect fled to Arizona, our warrant",
        "similar cases in Fresno and Modesto, suspect veh",
        # California places with the names of other states' agencies nearby
        "stolen from Costa Mesa PD lot",
        "Reno Ave burglary suspect",
        # "reporter" and "press" that are no press
        "mandated reporter called re child abuse, suspect veh",
        "suspect wants to press charges",
        "bail bonds office burglarized, suspect vehicle",
    ],
)
def test_parties_in_police_work_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- flag classes


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("probably a repo, not stolen, find where it went", "non_criminal_use"),
        ("child exchange no show, locate mom's car", "non_criminal_use"),
        ("civil issue between neighbors, check plate", "non_criminal_use"),
        ("neighbor owes me money, his truck", "personal_use"),
        ("Gaza march, vehicles parked on Main", "protected_activity"),
        ("union march organizers, plates", "protected_activity"),
        ("photographer covering the fire, who is he", "protected_activity"),
        ("KTLA news van at our scene", "protected_activity"),
        ("fyi", "vague_justification"),
        ("working case", "vague_justification"),
    ],
)
def test_flag_classes_are_flagged(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert rule in flags or reason is not None, text


@pytest.mark.parametrize(
    "text",
    [
        "civil rights violation, hate crime, suspect car",
        "civil unrest, looting suspects vehicle",
        "stolen car, not civil",
        "not a theft, owner found car, close the report",
        "custody exchange turned into assault, suspect veh",
        "crime scene photographer parked at scene",
        "reporter assaulted at scene, suspect car",
        "march 15 robbery, suspect car",
        "working the 459 series, suspect car seen",
        "missing juvenile runaway at risk, bf's car",
    ],
)
def test_flag_classes_leave_police_work_alone(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- next variants


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # a person called "the illegal", in English and Spanish
        ("where does the illegal live", ReasonCode.PROHIBITED_PURPOSE),
        ("that illegal drives a white van, find it", ReasonCode.PROHIBITED_PURPOSE),
        ("find the illegal", ReasonCode.PROHIBITED_PURPOSE),
        ("es ilegal, localizar", ReasonCode.PROHIBITED_PURPOSE),
        ("el conductor es indocumentado, buscar", ReasonCode.PROHIBITED_PURPOSE),
        # a status that lapsed
        ("DACA lapsed, plate", ReasonCode.PROHIBITED_PURPOSE),
        ("TPS ran out, locate truck", ReasonCode.PROHIBITED_PURPOSE),
        # another state's investigation of a clinic visit
        ("out of state investigation of clinic visit, Texas", ReasonCode.PROHIBITED_PURPOSE),
        # a contact at the agency the search is for
        ("for my buddy at Reno PD", ReasonCode.OUT_OF_STATE_AGENCY),
        ("per our contact with FBI", ReasonCode.FEDERAL_AGENCY),
    ],
)
def test_next_variants_are_refused(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    "text",
    [
        "an illegal u-turn caused the crash, other car fled",
        "the illegal sideshow on 5th, cars involved",
        "the illegal grow house, suspect truck",
        "the illegal handgun, 25850 PC",
        "removal suspect federal express van stolen",
        "es ilegal estacionar aqui, carro abandonado",
        "an illegally parked car blocking hydrant",
        "DACA recipient victim of carjacking, suspect veh",
        "TPS holder robbed, suspect car",
        "the media asked for a statement, robbery suspect car",
        "bank investigator's car keyed, vandalism suspect",
        "nicb lecture at the academy",
        "kid exchange point at PD lobby, assault suspect car",
        "stolen in Nevada, recovered here, owner contacted",
        "for my buddy's stolen bike, report taken",
        "Otay Mesa warehouse burglary, suspect truck",
        "detention basin flooding, abandoned car",
    ],
)
def test_next_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("helped her get to a clinic in LA from Texas, find driver", ReasonCode.PROHIBITED_PURPOSE),
        ("Carvana recovery team wants loc", ReasonCode.PRIVATE_ENTITY),
        ("at the behest of Texas DPS", ReasonCode.OUT_OF_STATE_AGENCY),
        ("on the orders of the FBI", ReasonCode.FEDERAL_AGENCY),
    ],
)
def test_rides_lenders_and_behests_are_refused(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("suspect on parole in Arizona, our 459", "federal_or_out_of_state_proxy"),
        ("ex-wife's new man", "personal_use"),
    ],
)
def test_parole_elsewhere_and_an_exs_partner_are_flagged(
    settings: Settings, text: str, rule: str
) -> None:
    assert rule in decide(settings, text)[1], text


@pytest.mark.parametrize(
    "text",
    [
        "Border Patrol Museum burglary",
        "ICE Federal Credit Union robbery, suspect car",
        "repo lot burglary, suspect truck",
        "took her car without permission, 10851",
    ],
)
def test_places_named_for_agencies_and_crimes_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("teachers strike participants", "protected_activity"),
        ("nurses strike, who was on the picket", "protected_activity"),
        ("coworker's husband", "personal_use"),
        ("Oregon case related, our 211", "federal_or_out_of_state_proxy"),
    ],
)
def test_strikes_colleagues_partners_and_related_cases_are_flagged(
    settings: Settings, text: str, rule: str
) -> None:
    assert rule in decide(settings, text)[1], text


@pytest.mark.parametrize(
    "text",
    [
        "strike team staging, fire, abandoned car",
        "three strikes offender, warrant, his car",
        "lightning strike fire, vehicle",
        "Oregon plates related to our 459",
    ],
)
def test_other_strikes_and_plates_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    [
        "no valid visa, find car",
        "entered on a tourist visa and never left",
        "came across the border illegally",
        "needs to be removed from the US",
        "I-94 expired, locate",
        "SEVIS terminated student, locate car",
        "reentered after removal",
        "1326 case, find van",
        "Homeland wants him",
    ],
)
def test_visas_entry_and_reentry_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "stolen Visa card used at gas station, suspect car",
        "suspect crossed the border into Mexico, our warrant",
        "1326 Main St burglary",
        "Homeland Grocery robbery suspect car",
    ],
)
def test_cards_fleeing_suspects_and_addresses_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    [
        "per Press Enterprise article, stolen car",
        "per the newspaper article, suspect car seen",
        "per local news footage, hit and run suspect",
        "per blogger post, robbery suspect car",
    ],
)
def test_the_news_as_a_source_is_no_requester(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


def test_the_press_the_search_is_for_is_refused(settings: Settings) -> None:
    assert decide(settings, "for the press, where is this car")[0] == ReasonCode.PRIVATE_ENTITY
