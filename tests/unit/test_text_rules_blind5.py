"""The classes of miss blind 5 found, generalised: each class is tested with texts of its own
(other agencies, operations, procedures, languages, wordings), never the blind set's strings,
next to hard legitimate texts with the same words that must stay clean.

Engine: a change of separator inside a run of single letters cuts it between two acronyms
("H.S.I. S.A.C.", "I-C-E. t-f-o"); an acronym of capitals starting with a digit drawn like I, E
or O ("3R0"); endings spelled as they sound ("imigrashun", "deportasion"). Rules: presence
without permission, sending a person home with the federal government nearby, removal in
Spanish, the Notice to Appear with an immigration word, more named operations, a pregnancy said
to be over or its signs with travel, procedures by their clinical names, ending it after travel,
other states' abortion bans by name, pills sent by a provider, gender-affirming care in Spanish
and as GAHT; a favour or data handed to the party, a state's SO asking. Flag classes: a private
party's part in our case, vetting a date, a colleague's car or circle, relatives in Spanish,
neighbours' disputes, background checks, bills, licence compliance, a religion or a language as
the suspicion, political parties and petitions, politeness and conversations as the reason.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.text_rules import words_of
from alpr_guard.settings import Settings
from tests.unit.screening_cases import assert_clean, decide

# --------------------------------------------------------------------------- engine


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("H.S.I. S.A.C. wants hits", ("hsi", "sac", "wants", "hits")),
        ("C.B.P. O.F.O. request", ("cbp", "ofo", "request")),
        ("I-C-E. t-f-o asked", ("ice", "tfo", "asked")),
        ("U.S. D.O.J. asked", ("us", "doj", "asked")),
        # one separator throughout, or a lone letter at either end: one word, as before
        ("I . C . E", ("ice",)),
        ("I-C.E", ("ice",)),
        ("h s i", ("hsi",)),
        ("U. S.", ("us",)),
        ("a b", ("a", "b")),
    ],
)
def test_a_change_of_separator_cuts_two_acronyms_apart(text: str, words: tuple[str, ...]) -> None:
    assert words_of(text) == words


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    first=st.sampled_from(["ICE", "HSI", "CBP", "ERO"]),
    second=st.sampled_from(["OPS", "TFO", "SAC", "ERO"]),
    inner=st.sampled_from([".", "-", "_", "*"]),
    between=st.sampled_from([". ", " ", " - ", "/ "]),
    lower=st.booleans(),
)
def test_two_dotted_acronyms_side_by_side_read_as_two_words(
    first: str, second: str, inner: str, between: str, lower: bool
) -> None:
    second_typed = second.lower() if lower else second
    text = inner.join(first) + between + inner.join(second_typed) + " wants it"
    assert words_of(text)[:2] == (first.lower(), second.lower()), text


@pytest.mark.parametrize(
    "text",
    [
        "3R0 team asked for the plate",
        "per 1C3 ERO",
        "imigrashun hold, find van",
        "deportasion pending, locate",
    ],
)
def test_digit_acronyms_and_spoken_endings_are_read(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "unit 5B1 reported stolen plate",
        "decision to arrest, possession of meth, suspect car",
        "television stolen in the session break, 459",
        "pension fraud suspect's car, mission district",
        "version 2 of the report, 10851 recovered",
    ],
)
def test_codes_and_ordinary_endings_are_left_alone(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


def test_a_long_run_of_letters_and_changing_separators_scans_in_linear_time(
    settings: Settings,
) -> None:
    text = "I.C.E. o p s-x.y " * 1500 + "stolen car"
    t0 = time.perf_counter()
    decide(settings, text)
    assert time.perf_counter() - t0 < 2.0


# --------------------------------------------------------------------------- prohibited


@pytest.mark.parametrize(
    "text",
    [
        # presence without permission
        "living here without permission, find his truck",
        "not authorized to remain in the United States, locate",
        "unauthorized migrant, locate van",
        "no work authorization, locate truck",
        # sent home in the sense of removal
        "feds want to ship him back home",
        "get her shipped back across the border",
        # Spanish
        "hay que mandarlo a su pais, buscar carro",
        "situacion migratoria irregular, localizar",
        "redada de la migra, ubicar camioneta",
        # the Notice to Appear, with an immigration word
        "NTA issued by DHS, respondent moved, find car",
        "served NTA, immigration hearing missed",
        # named operations
        "Operation Safeguard target list",
        "part of Operation Hold the Line, run plate",
        "operativo retorno, buscar troca",
    ],
)
def test_immigration_classes_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "she isn't pregnant anymore, check where she drove",
        "used to be pregnant, now isnt, find her car",
        "positive pregnancy test then drove to Oregon",
        "morning sickness, then trip to Colorado, track",
        "dilation and evacuation in Sacramento, girl from Idaho",
        "vacuum aspiration at clinic, track vehicle",
        "D&E at the clinic, find driver",
        "teen drove to Colorado to terminate, follow car",
        "Idaho abortion trafficking law, find the aunt's car",
        "SB8 lawsuit, identify driver",
        "human life protection act case, plate",
        "telehealth doctor shipping meds to Louisiana, find her car",
        "nurse practitioner prescribing pills across state lines, locate",
        "cirugía de reasignación de sexo, localizar",
        "terapia de afirmacion de genero para menor",
        "GAHT patient, 16, locate",
    ],
)
def test_care_described_without_its_name_is_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("as a courtesy to Boise PD", ReasonCode.OUT_OF_STATE_AGENCY),
        ("doing a favor for Texas DPS", ReasonCode.OUT_OF_STATE_AGENCY),
        ("forward the data to ATF", ReasonCode.FEDERAL_AGENCY),
        ("pass results over to Maricopa SO", ReasonCode.OUT_OF_STATE_AGENCY),
        ("Utah SO asked for reads", ReasonCode.OUT_OF_STATE_AGENCY),
    ],
)
def test_favours_and_data_handed_over_are_refused_with_the_partys_code(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] == reason, text


# --------------------------------------------------------------------------- flag classes


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Geico flagged the claim, our fraud case", "federal_or_out_of_state_proxy"),
        ("mother's private investigator supplied the plate", "federal_or_out_of_state_proxy"),
        ("girl from Saturday night, want to see if she's single", "personal_use"),
        ("checking if he's married", "personal_use"),
        ("lieutenant's wife's car", "personal_use"),
        ("captain asked me to look up his son's girlfriend", "personal_use"),
        ("mi exesposa, donde vive ahora", "personal_use"),
        ("fence dispute with next door neighbor", "non_criminal_use"),
        ("tenant background check for my rental", "non_criminal_use"),
        ("unpaid repair bill at body shop", "non_criminal_use"),
        ("cannabis permit compliance check", "non_criminal_use"),
        ("street vendor license inspection", "non_criminal_use"),
        ("Sikh family at the end of the block, run their plates", "profiling"),
        ("Romanians around the complex", "profiling"),
        ("spoke no English, run the plate", "profiling"),
        ("guy looked nervous at the gas station", "profiling"),
        ("GOP headquarters visitors list", "protected_activity"),
        ("people gathering signatures for a ballot measure", "protected_activity"),
        ("poll watchers cars", "protected_activity"),
        ("thanks", "vague_justification"),
        ("as advised", "vague_justification"),
        ("per our convo", "vague_justification"),
        ("just browsing plz", "vague_justification"),
    ],
)
def test_flag_classes_are_flagged(settings: Settings, text: str, rule: str) -> None:
    assert rule in decide(settings, text)[1], text


# --------------------------------------------------------------------------- hard negatives


@pytest.mark.parametrize(
    "text",
    [
        # frozen water, businesses and places named like agencies
        "ice cream truck hit and run, suspect fled",
        "icy roads crash, driver fled",
        "black ice rollover, hit and run",
        "ice chest stolen from truck bed",
        "ICE Refrigeration van stolen",
        "Customs Brokerage office burglary, suspect van",
        "Customs House restaurant burglary",
        "Border Grill robbery suspect car",
        "HSI Alarms truck stolen from yard",
        "U.S. Bank robbery suspect vehicle",
        "I.C.U. nurse assaulted, suspect car",
        "ICE contact in victim's phone, locate next of kin",
        # what is done illegally
        "illegal dumping on Main St, truck seen",
        "illegally parked car blocking fire lane, tow",
        # crimes against clinics and pregnant victims
        "arson at women's health clinic, suspect car",
        "threats against abortion provider, suspect vehicle",
        "vandalism at Planned Parenthood, suspect seen on camera",
        "pregnant victim assaulted, suspect fled in car",
        "missing pregnant woman, last seen driving to clinic",
        # immigrants as victims, people pretending to be agents, consultants' fraud
        "immigrant victim of wage theft robbery, suspect truck",
        "undocumented victim robbed at bus stop, suspect car",
        "man impersonating ICE officer extorted family, suspect van",
        "fake immigration agents robbed day laborers",
        "notario fraud, immigration consultant took victims' money",
        "immigration consultant scam, suspect vehicle",
        # the same words in police work
        "NTA issued for 22350 VC speeding, driver later stole car",
        "operation to return stolen property to victims",
        "ER staff sent him home, assault suspect's car",
        "terminated employee stole company truck",
        "D.C. trip, suspect in fraud case",
        "victim seemed nervous recounting the robbery, suspect car",
        "victim speaks only Spanish, interpreter requested, robbery suspect car",
        "suspect spoke with a heavy accent per witness, robbery",
        "Muslim victim of hate crime, suspect vehicle",
        "parking dispute turned into assault, suspect car",
        "neighbor dispute, neighbor threatened with a gun, suspect vehicle",
        "forged recall petition signatures, suspect car",
        "campaign office burglary, suspect vehicle",
        "date of incident from last weekend, stolen car",
        "the date of the robbery was last weekend, suspect car",
        "coworker's car stolen from employee lot, 10851",
        "job applicant's stolen ID used at bank, fraud suspect car",
        "out of state rental used in our robbery",
        "one-way rental recovered stolen, suspect",
        "insurer paid the claim, arson suspect car",
        "private investigator license revoked, suspect in 459",
        "recall notice on the vehicle, stolen car",
        "party bus shooting, suspect car",
        "nervous system damage from assault, suspect car",
        "removal officer's personal vehicle vandalized at home",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- wider variants


@pytest.mark.parametrize(
    "text",
    [
        # sub-units and programmes by short name, the warrant of removal, departure not kept
        "DBFTF case, locate vehicle",
        "IHSC transport, find van",
        "NFOP target vehicle",
        "warrant of removal, locate",
        "tiene orden de salida voluntaria",
        "failed to depart, find car",
        # returned or thrown out of the country
        "put him on a bus back to Guatemala",
        "kick them out of the country",
        "return him to Honduras",
        "boot him out of the US",
        # a trans minor's parents; California's shield laws named as another state's case
        "transgender teen's mom, find car",
        "SB 107 case from Texas",
    ],
)
def test_wider_prohibited_variants_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("her new man, just want to know who he is", "personal_use"),
        ("guy who sold me a lemon", "personal_use"),
        ("contractor who ripped me off on my kitchen", "personal_use"),
        ("my buddy's wife thinks he's cheating", "personal_use"),
        ("ex-girlfriend's new car", "personal_use"),
        ("woman from the coffee shop", "personal_use"),
        ("waitress I like, her car", "personal_use"),
        ("checking out my new neighbor", "personal_use"),
        ("neighbor across the street, parks weird", "personal_use"),
        ("kid's coach, just checking", "personal_use"),
        ("vehicle owner owes storage fees", "non_criminal_use"),
        ("mechanic lien on truck, locate", "non_criminal_use"),
        ("dispute over who owns the dog", "non_criminal_use"),
        ("city wants to know if the business is still operating", "non_criminal_use"),
        ("short term rental permit check", "non_criminal_use"),
        ("marketing study of traffic at mall", "non_criminal_use"),
        ("verify employee lives in district for stipend", "non_criminal_use"),
        ("pre-employment check on new dispatcher", "non_criminal_use"),
        ("background investigation for police applicant", "non_criminal_use"),
        ("jury duty excuse verification", "non_criminal_use"),
        ("workers comp claim, is he really injured", "non_criminal_use"),
        ("speaks Arabic, run his plate", "profiling"),
        ("turban guy in the car", "profiling"),
        ("woman in hijab, see where she goes", "profiling"),
        ("they didn't look like they belonged in this neighborhood", "profiling"),
        ("rental car, two males, nervous, I-5", "profiling"),
        ("Roma family camping at the park", "profiling"),
        ("those folks at the mosque Friday", "protected_activity"),
        ("person who filmed our stop", "protected_activity"),
        ("Indivisible group meeting", "protected_activity"),
        ("Moms for Liberty members", "protected_activity"),
        ("people who signed the recall", "protected_activity"),
        ("need this asap", "vague_justification"),
        ("idk", "vague_justification"),
        ("just because", "vague_justification"),
        ("gut feeling", "vague_justification"),
        ("victim's insurance adjuster called with the plate", "federal_or_out_of_state_proxy"),
    ],
)
def test_wider_flag_variants_are_flagged(settings: Settings, text: str, rule: str) -> None:
    assert rule in decide(settings, text)[1], text


@pytest.mark.parametrize(
    "text",
    [
        "UC buy: suspect sold me meth, his car",
        "suspect ripped me off during the sting, car",
        "her new boyfriend is the suspect in the 459",
        "Friday night mosque burglary, suspect vehicle",
        "those people at the church fundraiser stole the donations",
        "return her to Mexico per custody order, abduction 278",
        "parents took kid to Guatemala, abduction",
        "fled to Mexico, murder warrant",
        "failed to stop at the scene, hit and run",
        "lienholder reported stolen vehicle, 10851",
        "dispute over the car turned into assault, suspect",
        "retail theft data, suspect car",
        "suspect in a hijab robbed the store",
        "victim in hijab assaulted, suspect fled",
        "aclu office vandalized, suspect car",
        "my new patrol car damaged in pursuit",
        "kid's coach arrested for molest, warrant",
        "driver nervous, DUI arrest, crash",
        "NTA (citation) for 12500 VC, fled",
        "ice on the roadway, solo crash",
        "ICEE machine stolen from 7-Eleven",
        "Iced Out Jewelry burglary",
        "Customs Tavern fight, suspect car",
        "migratory bird poaching, suspect truck",
        "insurance card expired, 16028 VC",
        "operation return stolen bikes, recovered",
        "send him home with a warning, his car",
    ],
)
def test_wider_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("daughter's new friend's dad", "personal_use"),
        ("ex's lawyer's car", "personal_use"),
        ("my HOA president", "personal_use"),
        ("landlord says tenant has an extra car", "non_criminal_use"),
        ("school asked if student lives in boundary", "non_criminal_use"),
        ("car sold but buyer never transferred title", "non_criminal_use"),
        ("homeless-looking guy in a nice car", "profiling"),
        ("lowrider full of cholos", "profiling"),
        ("car with Mexican plates, run it", "profiling"),
        ("Arabic writing on the car", "profiling"),
        ("the press van outside the station", "protected_activity"),
        ("pastor who criticized the chief", "protected_activity"),
        ("members of the tenants association", "protected_activity"),
        ("people handing out flyers against the sheriff", "protected_activity"),
        ("proactive policing", "vague_justification"),
        ("victim's lawyer provided the plate", "federal_or_out_of_state_proxy"),
    ],
)
def test_third_round_flag_variants_are_flagged(settings: Settings, text: str, rule: str) -> None:
    assert rule in decide(settings, text)[1], text


@pytest.mark.parametrize(
    "text",
    [
        "suspect car has Arabic writing on the back, robbery",
        "press van broken into, camera stolen",
        "stolen car with Baja plates recovered",
        "victim handing out flyers was assaulted, suspect car",
        "homeless looking male suspect in robbery, his car",
        "ex's lawyer was the victim of a burglary",
        "title transfer fraud, suspect forged signature",
        "lease violation turned into assault on landlord, suspect car",
    ],
)
def test_third_round_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)
