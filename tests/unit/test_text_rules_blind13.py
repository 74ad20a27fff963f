"""The classes of miss blind 13 found, generalised: each class is tested with texts of its own
(other places, crimes and wordings), never the blind set's strings, next to the words that must
still refuse or flag.

Hard negatives (false positives on blind 13): the people at a protest, a march, a rally or a
picket line as the victims (a counter-protester punched, the crowd driven into, their cars'
tires slashed), a few words or a sentence away from the gathering's name, and "March" the month
told by the words beside it; a reporter threatened or assaulted a few words before the word; a
custody order broken by taking the child, with the crime a sentence away; how a victim met a
suspect online; where a reporting party's quoted thing was taken from; a federal agent as the
victim of a crime here; an out-of-state car used in a crime; an immigration consultant's scam
told by its promise; a series of crimes at a business's premises.

Refused (blind 13 misses): an agency named next to a plain statement that the case is not ours
or that the results go to it, a sentence away ("no local case", "no CA nexus", "email him the
hits", "their pursuit", "his gun trafficking case"); a federal party named by its office or its
people ("for the federal office", "per our federal contact"), or next to the steps of a removal
(a hold, a release, a charter flight); removal said by what is done (the country of origin,
across the line, leaving voluntarily, paroled in, a visa from a year ago, the office that handles
deportations) and in pinyin; care named by the appointment, the inquiry or the centre, hormones
for a minor said plainly; private parties by what they do (a fleet manager, company security, a
sales rep, a TV producer, an insurer deciding a claim), and a friend or a neighbour asking the
officer to look a car up; a national park's rangers by the park's name, the Las Vegas police by
its full name, "final orders" in the plural.

Flagged (blind 13 misses): a housing authority's or a voucher programme's question where a tenant
really lives; the people at a town hall listed; a vigil for someone the police shot, with who
organises it sought; a report number typed with "#" after its letters as the whole reason.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import assert_clean, decide


@pytest.mark.parametrize(
    "text",
    [
        # the people at a gathering as the victims, and what was done to them
        "suspect shoved two counter-protesters to the ground at the rally and drove off in a blue"
        " Civic",
        "rally goers were pepper sprayed by a man who fled in a red truck, find the truck",
        "driver sped into the crowd at the rally, three marchers hurt, find the car",
        "the marchers' cars had their windows smashed while they were at the capitol, suspect van",
        "a delivery truck swerved through the picket line at the warehouse, one striker injured",
        # a sentence away from the march
        "during the march downtown a man in a white sedan sped up and drove through the crowd",
        # the month, told by the words beside it
        "stolen in March, suspect van on camera",
        "burglaries since early March, gray Civic seen each time",
        "the March 3 burglary suspect car",
        # a reporter as the victim
        "reporter for the local paper was assaulted in the parking lot after the meeting, find the"
        " attacker's car",
        "harassing calls and a threatening note left for a radio journalist, suspect in a Tacoma",
        # a custody order broken by taking the child is the crime
        "custody order was ignored and the father fled with the kids to Modesto, find his truck",
        "child taken by mom in violation of the custody order, locate her car",
        "grandmother took the toddler in violation of the custody order; felony warrant issued by"
        " the court this morning for 278.5",
        # how a victim met a suspect
        "15-year-old runaway believed to be with a 24-year-old man she met on a dating app, locate"
        " his car",
        "robbed at gunpoint by a man she met online when she came to buy his phone, suspect car",
        # a reporting party's words, quoted, and where the thing was taken from
        "victim says 'someone stole my bike out of my garage', 484 report",
        "RP advised 'my truck was taken from my driveway last night', 10851",
        # a federal agent as the victim here
        "victim is an off-duty US Marshal whose pickup was stolen from the gym, 10851",
        "off duty ATF agent robbed at the ATM, our 211, suspect car",
        # an out-of-state car used in a crime
        "Arizona rental used in the smash and grab at the jewelry store, our case",
        "out of state car used to flee the shooting on 5th, find it",
        # an immigration consultant's scam, told by its promise
        "man promised to fix their immigration status for $5,000 and vanished, theft by false"
        " pretenses, find his car",
        "fake immigration consultant took deposits from three families, claimed to expedite their"
        " green cards, find her van",
        # a series of crimes at a business's premises
        "string of copper wire thefts at the body shop over three weekends; video shows a pickup",
        "repeated vandalism at the car dealership lot, windows smashed, requesting reads of the"
        " suspect truck",
        # the words of the refused classes next to a crime here, or a party as the victim
        "federal side of the courthouse had a car keyed in its lot, our vandalism report",
        "victim's tourist visa from 2019 was stolen with her purse, 211, suspect car",
        "employee's termination appointment with HR turned violent, 245 suspect fled in a gray"
        " Civic",
        "the gender health center was vandalized overnight, 594, suspect car on camera",
        "fleet manager reported the company truck stolen, 10851, find it",
        # the flagged classes' words next to a crime or police work
        "burglary at the town hall last night, suspect car on camera",
        "section 8 tenant robbed at gunpoint in the lot, 211, suspect car",
        "parolee: does he really live at the address he gave his agent, compliance check",
        "vigil for the man shot by deputies, a gunman fired at the crowd, find the shooter's car",
        "state park ranger at Big Basin asked us to run the car that hit the gate, our report",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    [
        # an agency's agent as the victim here, with "not our case" nearby, or a family court's
        # final orders: at most a flag
        "the FBI agent's own car was broken into at the gym, not our case originally but the gym"
        " is ours now",
        "off-duty FBI agent's pickup stolen from his driveway, not our case until he reports it",
        # final orders of a family court
        "judge signed the final orders in the divorce and the ex kept the truck, civil matter",
    ],
)
def test_a_victim_party_or_a_court_order_is_not_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] is None, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # the scam's words do not veto a search for the agency
        ("promised ICE we would get them the plate location", ReasonCode.PROHIBITED_PURPOSE),
        ("check his immigration papers for ICE", ReasonCode.PROHIBITED_PURPOSE),
        # a store following a shoplifter is still the store's own pursuit
        (
            "walmart asset protection wants to know where the shoplifter's car goes",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "car dealership wants to know where the buyer who stopped paying parks",
            ReasonCode.PRIVATE_ENTITY,
        ),
        ("FBI agent at the field office wants this plate run", ReasonCode.FEDERAL_AGENCY),
        # (blind 13 misses) an agency and a plain "not ours", or the results handed to it
        (
            "ATF resident agent in charge phoned; they want the reads, we have no local case.",
            ReasonCode.FEDERAL_AGENCY,
        ),
        ("For SA Ortiz, DEA San Diego, his fentanyl case.", ReasonCode.FEDERAL_AGENCY),
        (
            "Marshals task force wants the Jeep's last reads, not our case, just helping.",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "Kansas City PD burglary detective: run the Tahoe and email him the hits please",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "Idaho State Police trooper says the van ran from him near the border; their pursuit,"
            " he wants to know where it went",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "Agentes de la Policia Estatal de Sonora preguntaron por el carro; ellos tienen el"
            " caso.",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        # a federal party by its office or its people
        (
            "Our federal contact needs the hits for a case at their office; nothing on our side.",
            ReasonCode.FEDERAL_AGENCY,
        ),
        # removal by what is done, or a federal party next to its steps
        (
            "Locate for the federal team, subject's return to his country of origin is being"
            " arranged.",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "per our federal liaison, the guy is booked on the removal charter next week; find the"
            " car so he can be picked up",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "Hold from the federal side on the inmate; he's released Monday and they want the"
            " family's car",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "She was supposed to leave voluntarily last spring; the office that handles"
            " deportations wants her address",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "paroled in at Otay Mesa two years ago and never filed, where does he park",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("student visa from 2019, overstayed; find his car", ReasonCode.PROHIBITED_PURPOSE),
        (
            "passengers dropped off last night should be sent back across the border, find the van",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("yimin ju wants the car location", ReasonCode.PROHIBITED_PURPOSE),
        # care by the appointment, the inquiry or the centre; hormones for a minor
        (
            "the woman's termination appointment was Tuesday; which car drove her there",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "miscarriage investigation: was her car at the clinic on Elm the week before",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "reads near the trans health clinic on 5th to see which kids go there",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "grandpa thinks his 16-year-old granddaughter is getting hormones in San Jose, run her"
            " car",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        # private parties by what they do, and a friend asking
        (
            "Fleet supervisor at the delivery company wants to know where the driver takes the"
            " truck at lunch",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "corporate security at the bank's HQ asked for hits on the ex-employee's car",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "Reporter from Channel 7 asked for the travel history of the mayor's car for a segment",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "the adjuster would like our reads before the claim so the insurer can decide whether"
            " to pay the claim",
            ReasonCode.PRIVATE_ENTITY,
        ),
        ("my buddy asked me to see where his girlfriend goes at night", ReasonCode.PRIVATE_ENTITY),
        # a national park's rangers by the park's name, a police department by its full name,
        # "final orders" in the plural
        ("Joshua Tree rangers asked us to run the van for their case", ReasonCode.FEDERAL_AGENCY),
        (
            "detective with the Las Vegas Metropolitan Police Department called about the robbery"
            " suspect",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "check the flea market lot against the people with final orders",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("mi vecino me pidio revisar donde estaciona su esposa", ReasonCode.PRIVATE_ENTITY),
    ],
)
def test_the_same_words_still_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("need plates of everyone at the counter-protest rally", "protected_activity"),
        ("list the cars of the marchers at the union march", "protected_activity"),
        ("people in the march to city hall, run their cars", "protected_activity"),
        ("identify the marchers' cars from the union march", "protected_activity"),
        (
            "we have a journalist who keeps writing about the chief, find her car",
            "protected_activity",
        ),
        ("custody dispute, dad keeps kid past his weekend, no order violated", "non_criminal_use"),
        (
            "mom says the custody order gives him weekends, find where he takes them",
            "non_criminal_use",
        ),
        ("girl I met online, want to see if she's legit", "personal_use"),
        ("my tinder date last night, check if she's married", "personal_use"),
        ("my car was stolen from my driveway, run the plate for me", "personal_use"),
        ("wife said the same car followed her home to my house twice, who is it", "personal_use"),
        ("out of state plates hanging around the neighborhood, suspicious", "profiling"),
        ("FBI mentioned the off-ramp car in a briefing", "federal_or_out_of_state_proxy"),
        # (blind 13 misses) residency for a housing programme, a town hall, a vigil, a number
        (
            "housing authority caseworker asked whether the tenant is living somewhere else",
            "non_criminal_use",
        ),
        (
            "section 8 recertification: check if the voucher holder still parks at the unit",
            "non_criminal_use",
        ),
        ("does she actually reside at the unit on Elm, for the voucher review", "non_criminal_use"),
        ("speakers at the town hall on the budget, run their plates", "protected_activity"),
        (
            "memorial for the teen killed by police last month, list who organized it",
            "protected_activity",
        ),
        ("DR #25-0098", "vague_justification"),
    ],
)
def test_the_same_places_still_flag(settings: Settings, text: str, rule: str) -> None:
    assert rule in decide(settings, text)[1], text
