"""The classes of miss blind 7 found, generalised: each class is tested with texts of its own
(other firms, countries, offices, wordings and languages), never the blind set's strings, next
to hard legitimate texts with the same words that must stay clean.

Refused up front as private_entity: a guard firm by kind or by name, a bank, credit union or
lender asking us to find a car, a company's fraud or security team as who the search is for,
what the search finds sent to a private party named in the text (whatever the crime), someone of
a private party's asking ("the insurer's SIU adjuster needs") or the party looking itself. As
federal_agency: the results said to be going to a federal party.

Refused up front as prohibited_purpose: the removal sections of 8 U.S.C. (1225-1231) and the
re-entry offence typed as "1326 reentry", removability and inadmissibility, a person on a removal
list or roster, removals as work someone does, the charter flight or a plane back to a country, an
asylum claim or a status denied, USCIS described by what it hands out, the ICE office by its
street with a check-in, an ICE facility named with "facility", a worksite audit that found fake
documents; a termination of pregnancy with California or the home state, a clinic or who
performs them, "the day she terminated" at a clinic; short phrases in Vietnamese, Tagalog and
Portuguese.

Flagged: an insurer's claim, federal probation, civil subpoenas and depositions, contract
disputes, the language people speak ("speaks only Korean") and a nationality with workers,
Roma travellers, recall signs, reasons with nothing in them ("for a project").

Also refused, found with texts written while tuning: the ICE offices by address and the
federal building on their streets, Border Patrol and USCIS as people call them, sent or needing
to go back home to a country, a visa run out, living with no SSN, the process and its papers
described (a master calendar hearing, "in removal", ordered to leave the country, a Form I-20
ended, no entry stamp), ICE's detention contractors, the 287(g) programme in words, a person said
to look undocumented, agents known by their gear asking ("HSI on their jackets wanted"), guards,
casino or mall cops and banks' auto-finance units asking.

Hard negatives: a past removal read in the record next to our own warrant or our own crime, an
undocumented victim, a march, rally or picket line whose people were attacked or threatened,
banks and guards as victims, terminations of jobs and leases, flights and buses in other
senses.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import assert_clean, decide

# --------------------------------------------------------------------------- private parties


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # guard firms by kind and by name
        ("hotel security company wants to know when the car left", ReasonCode.PRIVATE_ENTITY),
        ("Securitas guard requested the plate history", ReasonCode.PRIVATE_ENTITY),
        ("for the apartment security patrol, they need the hits", ReasonCode.PRIVATE_ENTITY),
        # banks and lenders asking us to find a car
        ("the bank asked us to locate the car they financed", ReasonCode.PRIVATE_ENTITY),
        ("auto lender wants us to find where the truck is kept", ReasonCode.PRIVATE_ENTITY),
        # a company's fraud or security team as who the search is for
        ("per Venmo fraud team, find the seller's car", ReasonCode.PRIVATE_ENTITY),
        ("on behalf of Acme trust and safety, run the plate", ReasonCode.PRIVATE_ENTITY),
        # the results sent to a private party named in the text, whatever the crime
        ("insurer says the claim is staged, email them the reads", ReasonCode.PRIVATE_ENTITY),
        ("bail bondsman, skip on a 459, forward him the hits", ReasonCode.PRIVATE_ENTITY),
        # someone of theirs asking, or the party looking
        ("Geico claims adjuster needs the location history", ReasonCode.PRIVATE_ENTITY),
        ("recovery agent trying to locate the unit, plate attached", ReasonCode.PRIVATE_ENTITY),
        ("tow company searching for the owner, run it for them", ReasonCode.PRIVATE_ENTITY),
        # guards and auto-finance units by what they are called
        ("casino cops want to know where the car went", ReasonCode.PRIVATE_ENTITY),
        ("security officers asked for the plate reads", ReasonCode.PRIVATE_ENTITY),
        ("Capital One auto finance wants their collateral found", ReasonCode.PRIVATE_ENTITY),
        ("for the repo crew, locate it", ReasonCode.PRIVATE_ENTITY),
        # results going to a federal party
        ("hits going to the DEA group on the pill case", ReasonCode.FEDERAL_AGENCY),
        ("data goes to FBI for their bank case", ReasonCode.FEDERAL_AGENCY),
    ],
)
def test_parties_are_refused_with_the_partys_code(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] == reason, text


# --------------------------------------------------------------------------- prohibited


@pytest.mark.parametrize(
    "text",
    [
        # removal sections and the re-entry offence
        "8 USC 1231 matter, where does subj sleep",
        "8 U.S.C. 1226 detention case, plate attached",
        "1326 re-entry offender, pull his travel",
        # removability and inadmissibility
        "deportability finding pending, find current address",
        "inadmissible alien per CBP records, locate the van",
        # a person on a removal list, removals as work
        "she is on the removal roster, verify her car",
        "office that handles removals wants his pattern",
        # the flight or the plane back
        "needs to be on the charter to El Salvador next week, find him",
        "get her onto a bus back to Mexico, last location",
        "ICE Air pickup Tuesday, confirm where subj parks",
        # a claim or status denied
        "his asylum application has been rejected, locate",
        "DACA was cancelled last month, where does she live",
        # USCIS by what it does, the ICE office by its street, a facility
        "agency that issues work permits wants the address",
        "missed his reporting date at Sansome, current plate location",
        "agents from 880 Front want his pattern of life",
        "fed building at Sansome wants the reads",
        # Border Patrol and USCIS as people call them
        "border cops asked where the truck goes at night",
        "the border guys want this plate",
        "the men who patrol the border need this car's trips",
        "naturalization office asked where she lives now",
        # sent, or needing to go, back home; removed from the country
        "she has to be returned to Nicaragua, find her",
        "so they can be shipped home to Peru, last location",
        "deport her from the united states, plate attached",
        # a visa run out; living or working without a Social Security number
        "their visas lapsed in spring, track the van",
        "living here with no SSN, where does he park",
        # a pregnancy said as expecting, then dealt with after travel
        "she's expecting, drove to Nevada to handle it, track the car",
        "Adelanto facility officer asked us for the van's reads",
        # a worksite audit that found fake documents
        "I9 inspection showed fake papers, find the workers' cars",
        "unauthorized hires at the farm, track their vehicles",
        # a termination with the home state, a clinic or who performs them
        "her termination happened in California, Idaho is asking, run it",
        "find the provider that performs terminations, plate attached",
        "car at the women's clinic the morning she terminated",
        # other languages
        "so di tru can dia chi, chay bien so",
        "walang papeles ang driver, hanapin ang kotse",
        "motorista sem documentos, localizar o carro",
        "nagpalaglag sa klinika, hanapin ang kotse",
        "pha thai o California, tim xe",
        "khong co giay to, can bien so",
        "ipapadeport na siya, hanapin ang sasakyan",
        # the process and its papers described instead of named
        "master calendar hearing next month, find current address",
        "subj is in removal, need where he sleeps",
        "she was ordered to leave the country in May, find her",
        "given a deadline to depart the US and stayed, locate",
        "form I-20 was revoked, where is the student living",
        "no entry stamp in his passport, find him",
        "her bump was gone after the Arizona trip, where did she go",
        # detention contractors, the 287(g) programme in words, a person said to look
        # undocumented
        "GEO transport officers asked where she is staying",
        "CoreCivic staff want the van's location",
        "the 287 program deputy at the jail wants the plate",
        "driver looked undocumented, run it",
        "the workers looked like migrants, check the truck",
        # agents known by their gear, asking
        "agents with HSI on their jackets wanted the reads",
        "CBP uniforms asked us about this plate, run it",
    ],
)
def test_immigration_and_care_classes_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


# --------------------------------------------------------------------------- flag classes


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("rear end collision, the carrier has opened a claim", "federal_or_out_of_state_proxy"),
        ("our 459 suspect is on federal supervised release", "federal_or_out_of_state_proxy"),
        ("serve a civil subpoena, find where he parks", "non_criminal_use"),
        ("payment dispute with the roofer, locate his van", "non_criminal_use"),
        ("speaks only Korean, run the car", "profiling"),
        ("Armenian speaking males in a sedan, check", "profiling"),
        ("Guatemalan farm workers carpool, run it", "profiling"),
        ("roma travellers at the rest stop, where have they been", "profiling"),
        ("van with recall the sheriff stickers, who owns it", "protected_activity"),
        ("for some projects", "vague_justification"),
        ("check this one", "vague_justification"),
    ],
)
def test_flag_classes_are_flagged(settings: Settings, text: str, rule: str) -> None:
    assert rule in decide(settings, text)[1], text


def test_a_bare_question_mark_is_refused_as_junk(settings: Settings) -> None:
    assert decide(settings, "?")[0] == ReasonCode.JUSTIFICATION_REQUIRED


# --------------------------------------------------------------------------- hard negatives


@pytest.mark.parametrize(
    "text",
    [
        # a past removal read in the record, next to our own crime
        "subj deported in 2012 per the criminal history, now wanted for 459",
        "previously deported, now our carjacking suspect, felony warrant",
        # an undocumented victim
        "victim was an undocumented worker beaten and robbed, find suspect car",
        "witness is an immigrant who saw the 211, suspect vehicle",
        # people at a march, rally or picket line attacked or threatened
        "truck plowed into the picket line, 245, find the driver",
        "rally organizer got death threats, 422, suspect car",
        "marcher struck by a car at the rally, identify driver",
        # banks and guards as victims, guards as witnesses
        "credit union robbed, 211, suspect vehicle",
        "bank asked us to find the robbery suspect car, 211",
        "security guard assaulted at the mall, 245, suspect car",
        "Allied Universal guard saw the 459 suspect leave in a truck",
        # terminations and flights in other senses
        "termination of his employment led to threats, 422, suspect car",
        "lease termination dispute turned into vandalism, 594",
        "suspect took a flight to Mexico after the 187, warrant",
        "suspect fled on a bus back to Guatemala after the homicide, warrant",
        "tree removals on Oak St, city truck stolen, 10851",
        "suspect has to go back to court on the warrant, find the car",
        "ordered to leave the store by security, came back and stole, 484",
        "told to leave the country club, returned, 602 suspect car",
        "stolen car seen eastbound on I-20 in Texas, 10851",
        "suspect trying to leave the country after the 187, warrant",
        "tow truck in removal of the wreck was stolen, 10851",
        "no entry record in the storage log for the 459",
        "khong co bang lai, chay bien so",
        "geo metro stolen from the lot, 10851",
        "the window tint looked illegal, stolen car 10851",
        "that looks like an illegal u turn, collision suspect car",
        "suspect yelled slurs calling the victim an illegal immigrant, hate crime, 422",
        "anti immigrant graffiti on the market, hate crime, 594",
        "robbers wearing ICE vests asked for money, 211, suspect van",
        "men posing as agents in HSI jackets wanted cash, 518",
        "visa expired on the stolen card, 484e suspect",
        "his Visa card expired and he kept using it, suspect car",
        "she was expecting a delivery that was stolen from the porch, 484",
        "the green card office was burglarized, 459",
        "the immigration court building was tagged, 594",
        "border of the property fence damaged, 594, suspect truck",
        # guards and stores reporting their own crime
        "security guard wants to press charges on the shoplifter, suspect car",
        "mall cops detained a shoplifter who fled in a car, 484",
        "repo guys assaulted by the owner, 245, suspect truck",
        "Wells Fargo auto loan fraud, suspect car",
        # fraud teams and security teams of our own
        "per Sgt Lee fraud team, 470 suspect vehicle",
        "for the financial crimes fraud team, identity theft suspect car",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    [
        "insurance company reported the staged collision, 550, suspect car",
        "the carrier flagged the claim as staged, suspect vehicle for our 550",
    ],
)
def test_an_insurer_in_our_own_case_is_flagged_not_refused(settings: Settings, text: str) -> None:
    # Mentioned, not asking and not sent anything: reviewed, not refused.
    reason, flags = decide(settings, text)
    assert reason is None and flags == {"federal_or_out_of_state_proxy"}, text
