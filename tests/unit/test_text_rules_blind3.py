"""The classes of miss blind 3 found, generalised: each class is tested with texts of its own
(other agencies, other wordings), never the blind set's strings, next to the hard legitimate
texts of the same words that must stay clean.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import assert_clean, decide

# --------------------------------------------------------------------------- status and entry


@pytest.mark.parametrize(
    "text",
    [
        # a vehicle in the same reason is no reason to drop the status words
        "entry without inspection, find the truck",
        "foreign national, vehicle registered to him",
        "visa expired, car seen on Main",
        "final order, plate hits on his SUV",
        "illegally present in the US, locate van",
        # parole programmes by name
        "Chnv parolee, where is the car",
        "humanitarian parole ended, locate",
        "CBP One appointment missed, find him",
    ],
)
def test_status_phrases_are_refused_even_next_to_a_vehicle(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "removal of abandoned vehicle, 22669 VC",
        "tow removal order for the van on 3rd",
        "final restraining order served, his car",
    ],
)
def test_removal_of_things_and_family_orders_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    ["ICE target, possibly at mother's house", "ICE fugitive, poss staying with cousin"],
)
def test_possibly_is_no_drug_word(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text", ["poss of ICE, 11377 HS, grey Civic", "ICE (meth) sold from the car, 11378"]
)
def test_ice_the_drug_stays_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- sub-units and acts


@pytest.mark.parametrize(
    "text",
    [
        "Temecula chk pt referral, car turned around",
        "Rainbow ckpt agents want the hits",
        "Campo Sta BPAs asked for plate history",
        "SBPA at El Cajon wants location",
        "I-247D hold, subject released, find him",
        "247 detainer lodged, jail released him",
        "UACs dropped near the canal, find the van",
        "OTMs in a box truck, plate hits",
        "gotaways on the east side, vehicle",
        "fugitive operations unit lead, where does he sleep",
        "worksite raid next week, employee vehicles",
        "I-9 audit at the packing house, worker plates",
        "brdr agent asked for hits",
        "border ptl case",
        "ship them back to Honduras, locate",
        "get him shipped back, address please",
        "300 N Los Angeles St asked for this",
        "880 Front Street office wants the plate",
    ],
)
def test_more_of_the_immigration_domain_is_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "suspect got away in a red Civic, 211 PC",
        "suspect fled back to Mexico, warrant for 187",
        "DUI checkpoint on Main, driver fled, 2800.2",
        "BPA-free bottles stolen from warehouse, 459",
        "stolen truck returned back to its owner",
        "front street burglary, 459 PC",
    ],
)
def test_the_same_words_in_police_work_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- care by paraphrase


@pytest.mark.parametrize(
    "text",
    [
        "8 weeks along, drove in from Arizona, locate",
        "second trimester female from Texas, clinic in Fresno",
        "expectant mother crossed from Nevada for an appt",
        "took her to California to get rid of the baby",
        "16 year old taken to Oakland for hormone treatment",
        "came from Utah for her blockers",
        "visited the PP clinic in Van Nuys, plate",
        "car parked outside P. P. on Tuesday",
        "PPFA patient vehicle",
        "plannd parenthood, whose car",
    ],
)
def test_care_described_without_its_name_is_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "pregnant woman carjacked at gas station, 215 PC",
        "woman 20 weeks along assaulted by boyfriend, 273.5",
        "missing 16 year old, traveled to LA, at risk",
        "suspect went to clinic for treatment of gunshot wound",
        "see pp 4 of the report, 459 PC",
        "arson at PP clinic, 451 PC, suspect truck",
    ],
)
def test_pregnant_victims_and_crimes_against_clinics_stay_clean(
    settings: Settings, text: str
) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- spelling


@pytest.mark.parametrize(
    "text",
    [
        "IICCEE asked for the plate",
        "ICCE target, locate",
        "per CCBBPP",
        "EERO request",
        "I-CE wants location",
        "IC.E pickup tomorrow",
        "H SI case agent asked",
        "CB-P hold",
        "D HS request",
        "US CIS site visit, where does she live",
    ],
)
def test_doubled_letters_and_unevenly_split_acronyms_are_read(
    settings: Settings, text: str
) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "11377 HS I saw him sell from the car",
        "ICEE machine stolen from the 7-11, 459",
        "FEEDS STOLEN FROM RANCH, 487 PC",
        "B/M AN HOUR AGO, 211 SUSPECT, BLUE SEDAN",  # in capitals, "M AN" is not "MAN"
        "I E gang shooting, 245 PC",
        "LA PD robbery detail asked for our 211 help",
    ],
)
def test_short_words_in_capitals_are_not_glued_into_acronyms(settings: Settings, text: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and "prohibited_purpose" not in flags, text


# --------------------------------------------------------------------------- beneficiaries


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("per SA Ortiz, DEA, their case", ReasonCode.FEDERAL_AGENCY),
        ("ATF Sacramento field office asked, gun trafficking", ReasonCode.FEDERAL_AGENCY),
        ("Secret Service counterfeit case, per SA", ReasonCode.FEDERAL_AGENCY),
        ("requested by Det. Long, Reno PD", ReasonCode.OUT_OF_STATE_AGENCY),
        ("Clark Co SO asked, their robbery", ReasonCode.OUT_OF_STATE_AGENCY),
        ("Pima Cnty Sheriff detective requested", ReasonCode.OUT_OF_STATE_AGENCY),
        ("a peticion del alguacil de Arizona", ReasonCode.OUT_OF_STATE_AGENCY),
        ("investigator retained by the family asked us", ReasonCode.PRIVATE_ENTITY),
        ("Target AP wants the plate of the shoplifter", ReasonCode.PRIVATE_ENTITY),
        ("tow company owner from Ace Towing asked", ReasonCode.PRIVATE_ENTITY),
    ],
)
def test_a_party_asking_with_words_in_between_is_refused_with_its_code(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    "text",
    [
        "our 459 series, OCDETF also looking at the crew",
        "JTTF notified per policy, our 422 PC",
        "suspect has an open Oregon warrant, our 10851",
        "Washington SP shared a BOLO, our stolen trailer",
    ],
)
def test_a_party_only_mentioned_is_flagged_not_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text) == (None, {"federal_or_out_of_state_proxy"}), text


@pytest.mark.parametrize(
    "text",
    [
        "murder suspect fled to Arizona, warrant issued",
        "suspect impersonated an FBI agent to rob victim, 146a PC",
        "Walmart loss prevention reported shoplifter in blue sedan, 484",
        "Nevada clinic van stolen here, 10851",
    ],
)
def test_parties_in_police_work_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- hard negatives


@pytest.mark.parametrize(
    "text",
    [
        # immigrants as victims: threats to report them are extortion or abuse
        "landlord threatened to report tenants to ICE unless they paid, 519 PC",
        "boyfriend threatens to have her deported if she calls police, 273.5",
        "extortion of day laborers, threat of deportation, 518 PC",
        "robbery crew targeting immigrant day laborers, 211 PC",
        # the agencies' gear worn by robbers
        "men in ICE jackets forced entry, 459/211",
        "suspects wore HSI vests during home invasion",
        # places and streets named like the words
        "hit and run on Homeland Security Dr, 20001",
        "stolen car last seen by the Calexico POE outlet mall, 10851",
        "vehicle with customs rims stolen from car show, 487",
        "burglary on Immigration Pl, 459 PC",
        # protesters as victims
        "SUV plowed into demonstrators, 245 PC",
        "driver assaulted marchers, 242 PC, red truck",
        # registration, not residency
        "legal status of the registration: current, RO in Fresno, 10851",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    [
        "ICE fugitive wearing a red hoodie, locate",
        "ERO officer needs the plate history",
        "per ero, where is the car",
        "Sec Comm match, locate",
        "respondent missed immigration court, locate",
    ],
)
def test_the_vetoes_do_not_open_a_gap(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text", ["suspect Ero Martinez, DV 273.5 PC", "Ero's Tacos robbery, 211 PC"]
)
def test_ero_the_name_stays_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- flag classes


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("per radio", "vague_justification"),
        ("dispatch", "vague_justification"),
        ("who is camping at the encampment by the library, UCLA", "protected_activity"),
        ("plates at the Juneteenth festival", "protected_activity"),
        ("cars outside the drag brunch", "protected_activity"),
        ("ex-tenant skipped out on rent, where is he now", "non_criminal_use"),
        ("insurance matter, no crime, find the other driver", "non_criminal_use"),
        ("cousin's new girlfriend", "personal_use"),
        ("neighbor, don't trust him", "personal_use"),
        ("dude from my gym", "personal_use"),
        ("the guy who keeps staring at me at the coffee shop", "personal_use"),
        ("who scratched my truck at the mall", "personal_use"),
    ],
)
def test_flag_classes_are_flagged(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and rule in flags, (text, reason, flags)


@pytest.mark.parametrize(
    "text",
    [
        "homeless encampment fire, 451 PC, suspect vehicle",
        "victim's cousin's boyfriend suspected of 459",
        "suspect keyed my patrol unit, 594 PC",
        "crime scene on Elm, no crime report yet, hit and run 20002",
    ],
)
def test_flag_classes_leave_police_work_alone(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- presence and papers


@pytest.mark.parametrize(
    "text",
    [
        "no status, find his car",
        "without legal status, truck on 5th",
        "she's here illegally, find the van",
        "is he illegal? locate",
        "subject is undocumented, plate hits",
        "does the driver have papers",
        "over stayed his visa, car",
        "ordered deported in absentia",
        "USCIS FDNS asked for the address",
        "Immigration & Customs Enforcement request",
    ],
)
def test_presence_and_papers_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "driver is illegally parked in red zone, car stolen",
        "truck was illegally dumping on Ridge Rd",
        "suspect is illegally in possession of a firearm, 29800 PC",
        "no status update on the stolen car report, 10851",
        "illegal U-turn, then fled, 2800.1",
    ],
)
def test_things_done_illegally_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    [
        "la joven embarazada cruzo a California, ubicar",
        "terminaron el embarazo en Los Angeles",
        "she terminated at the clinic, whose car drove her",
        "had a D and C in Sacramento, Idaho family asking",
        "GAC appointment for their son",
        "teen transitioning, parents in Utah want the car",
        "sex confirmation surgery patient",
    ],
)
def test_care_in_spanish_and_abbreviated_is_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text", ["she terminated the lease early, 459 at the unit", "got a top speed of 110, 2800.2"]
)
def test_ordinary_terminations_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("running it for Oregon", ReasonCode.OUT_OF_STATE_AGENCY),
        ("on behalf of the state of Arizona", ReasonCode.OUT_OF_STATE_AGENCY),
        ("for our colleagues up in Washington", ReasonCode.OUT_OF_STATE_AGENCY),
        ("asked by a fed I know", ReasonCode.FEDERAL_AGENCY),
        ("per HHS", ReasonCode.FEDERAL_AGENCY),
        ("for Homeland, their case", ReasonCode.PROHIBITED_PURPOSE),
        ("defense attorney asked for the plate history", ReasonCode.PRIVATE_ENTITY),
        ("per the family's lawyer", ReasonCode.PRIVATE_ENTITY),
        ("Uber security wants the driver's location", ReasonCode.PRIVATE_ENTITY),
    ],
)
def test_beneficiaries_by_state_name_and_private_counsel_are_refused(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    "text",
    [
        "search for Oregon plates seen at the 459",
        "for Nevada County SO, their burglary",
        "assist Washington Blvd units, 211 suspect",
        "per DA, 187 case",
        "stolen vehicle from Migration Brewery parking",
        "Uber driver robbed at gunpoint, 211 PC",
    ],
)
def test_states_and_services_in_police_work_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# --------------------------------------------------------------------------- more spellings


@pytest.mark.parametrize(
    "text",
    [
        "|CE asked for the plate",
        "!CE target",
        "IC€ request",
        "H$I case agent",
        "I\\C\\E wants him",
        "I ... C ... E target",
        "1-C-E pickup",
        "I C 3 hold",
        "dep-ortation case",
        "immi-gration status check",
        "HSIagent asked",
        "BorderPatrol wants hits",
        "BORDERPATROL REQUEST",
        "HomelandSecurity request",
        "immigrationstatus check",
        "lmmigration check",
        "lmm1gration hold",
    ],
)
def test_symbols_separators_and_glued_words_are_read(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "justice served: 211 suspect vehicle",
        "JUSTICE DEPT GRANT AUDIT",
        "unit 1 CE responding to 459",
        "STOP! sign runner, hit and run 20001",
        "$500 stolen from register, 484 PC",
        "co-worker's car keyed in the lot, 594",
        "hit-and-run on I-5 N, 20001",
        "policeman's bike stolen, 487",
    ],
)
def test_ordinary_text_is_not_read_as_an_agency(settings: Settings, text: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and "prohibited_purpose" not in flags, text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("as directed by sup", "vague_justification"),
        ("qwerty", "vague_justification"),
        ("people at the union hall vote", "protected_activity"),
        ("cars at mosque during friday prayers", "protected_activity"),
        ("woman who livestreams cops at stops", "protected_activity"),
        ("husband's gym buddy", "personal_use"),
        ("who bought my old car", "personal_use"),
        ("bumble match, want to check him out", "personal_use"),
        ("my sister wants to know who he is", "personal_use"),
        ("neighbour's son's truck", "personal_use"),
        ("rent skipper, where did he go", "non_criminal_use"),
        ("insurance wants the plate for the claim", "non_criminal_use"),
    ],
)
def test_more_flag_classes_are_flagged(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and rule in flags, (text, reason, flags)


@pytest.mark.parametrize(
    "text",
    [
        "neighbor's car was stolen overnight, 10851",
        "bail jumper on our felony warrant, 1320.5 PC",
        "sgt said the suspect drove a blue Civic, 211",
        "burglary at the church during Sunday service, 459",
    ],
)
def test_more_flag_classes_leave_police_work_alone(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("arab looking men in a van", "profiling"),
        ("brown skinned guy, just driving around", "profiling"),
        ("Peruvian thieves probably", "profiling"),
        ("hispanics in an old truck", "profiling"),
        ("doesn't belong in this neighborhood", "profiling"),
        ("suspicious rental on the 5", "profiling"),
        ("subject has an out of state warrant, our 459", "federal_or_out_of_state_proxy"),
    ],
)
def test_profiling_and_mentions_are_flagged(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and rule in flags, (text, reason, flags)


def test_copying_results_to_a_federal_agency_is_refused(settings: Settings) -> None:
    assert decide(settings, "cc to DEA, their case")[0] == ReasonCode.FEDERAL_AGENCY


@pytest.mark.parametrize(
    "text",
    [
        "witness: dark skinned male fled in gray Civic, 211",
        "stolen car with out of state plates recovered, our 10851",
    ],
)
def test_suspect_descriptions_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    [
        "ICE officer attacked at a gas station, 245 PC, suspect fled in a Kia",
        "HSI agent's personal car broken into, 459",
        "DEA agent's truck stolen from his driveway, 10851",
        "restraining order violation, 273.6 PC, ex-boyfriend's car",
    ],
)
def test_agents_and_protected_people_as_victims_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


def test_an_agent_asking_is_still_refused(settings: Settings) -> None:
    assert decide(settings, "ICE officer asked for the car, he was assaulted")[0] == (
        ReasonCode.PROHIBITED_PURPOSE
    )


@pytest.mark.parametrize(
    "text",
    ["pedido de Homeland", "viajo a California para abortar", "collateral arrests, need addresses"],
)
def test_last_round_of_the_domain_is_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


def test_day_labourers_at_a_store_are_profiling_unless_victims(settings: Settings) -> None:
    assert decide(settings, "jornaleros outside the Lowe's, plates")[1] == {"profiling"}
    assert_clean(settings, "day laborers robbed at the Home Depot, 211 PC")
    assert_clean(settings, "stolen from Homeland Grocery, 484 PC")


@pytest.mark.parametrize(
    "text",
    [
        "bond revoked by the IJ, locate",
        "BIA decision, subject in the wind",
        "SDDO asked for the hits",
        "reasonable fear interview missed, find him",
        "title 42 expelled, came back, locate",
    ],
)
def test_immigration_courts_and_officers_by_short_form_are_refused(
    settings: Settings, text: str
) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    "text",
    [
        "suspect stole the victim's green card and passport, 459",
        "DV victim scared to call police because of her immigration status, 273.5",
        "border patrol agent uniform stolen from parked car, 487",
        "immigrant legal defense fund office burglarized",
    ],
)
def test_immigration_words_describing_a_victim_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text", ["immigration documents missing, locate him", "ICE took his papers, locate him"]
)
def test_the_victim_phrases_open_no_gap(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text
