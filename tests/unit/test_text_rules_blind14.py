"""The classes of miss blind 14 found, generalised: each class is tested with texts of its own
(other places, crimes, agencies and wordings), never the blind set's strings, next to the words
that must still stay clean.

Refused as a proxy (blind 14 misses): a federal party by its people or what it runs ("the
Bureau"'s agents, a joint terrorism team, the Coast Guard's investigators, the Capitol's police,
a deputy marshal, "three-letter" people, a national park's ranger with "park" in between); a
request relayed through someone else; an officer of another state named only by the town they
work in (also in Spanish, Tagalog and Vietnamese) or a state's task force by what it hunts; the
case theirs by its crime, its target or "no case of ours", our system out of their reach; private
parties by trade (a casino's surveillance people, a utility's investigators, a storage chain's
managers, a rental company with no report made, "taga-insurance").
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings, load_settings
from tests.unit.screening_cases import CONFIG, assert_clean, decide


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(CONFIG)


@pytest.mark.parametrize(
    "text",
    [
        # a relay, a party's trade or a town of another state next to our own case or a victim
        "relay from dispatch: caller reports a white van following kids near the park",
        "the victim, a casino security guard, was robbed in the parking lot; suspect fled in a"
        " silver Altima",
        "victim's Camry stolen from her driveway, report filed, they want their car back, our case",
        "water company truck stolen from the yard overnight, company reported it, partial plate",
        "the RP asked for a callback, says a man in a red truck is casing houses on Elm",
        "storage facility manager reported a break-in, suspect truck on the gate camera",
        "victim's son was visiting from Boise when his car was broken into here, our burglary case",
        "suspect fled to Reno after the shooting here; our detectives need his route north",
        "the victim says the car has been following her since she moved from Phoenix",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # a federal party by its people or what it runs
        (
            "Bureau special agent from the LA field office phoned, wants the reads on a gray"
            " F-150 for their bank case",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "for my contact at the Bureau, she needs the last reads on this Accord",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "the joint terrorism task force downtown asked for hits, their lead",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "a deputy US marshal phoned, needs his fugitive's last locations",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "Coast Guard Investigative Service request on a stolen outboard",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "the three letter guys on the 17th floor want this one run, no case of ours",
            ReasonCode.FEDERAL_AGENCY,
        ),
        ("Sequoia park ranger asked us to run it for their theft", ReasonCode.FEDERAL_AGENCY),
        # a relay
        (
            "relay from the US Attorney's office, they want reads for their indictment",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "relayed through the Arizona fusion center for one of their member agencies",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        # an officer of another state by the town they work in, or a task force by what it hunts
        (
            "officer from Phoenix called, his stolen car case, he can't query our system",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        ("a detective in Boise requested it, their armed robbery", ReasonCode.OUT_OF_STATE_AGENCY),
        ("la pidio una detective de Reno, su caso de robo", ReasonCode.OUT_OF_STATE_AGENCY),
        ("pulis sa Reno ang nag request, kaso nila", ReasonCode.OUT_OF_STATE_AGENCY),
        ("Canh sat ben Nevada nho tra xe cua ho", ReasonCode.OUT_OF_STATE_AGENCY),
        (
            "Missouri fugitive task force lead asked us to check for their fugitive",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        # private parties by trade
        (
            "casino security asked us to find where the high roller's car goes",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "the electric company investigator asked for reads on a man stealing power",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "district manager of the self storage chain wants to know where a renter's truck has"
            " been",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "rental company, no report filed, wants their overdue Tahoe located",
            ReasonCode.PRIVATE_ENTITY,
        ),
        ("taga insurance ang nag request, claim nila", ReasonCode.PRIVATE_ENTITY),
    ],
)
def test_the_classes_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] is reason, text
