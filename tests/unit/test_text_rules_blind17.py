"""The classes of miss blind 17 found, generalised: each class is tested with texts of its own
(other places, crimes, agencies and wordings), never the blind set's strings, next to the words
that must still stay clean.

Refused as a proxy (blind 17 misses): rarer federal investigators by their agency's criminal arm
(the EPA's and the FDA's, export enforcement, a land agency's ranger, Fish and Wildlife, a
diversion investigator, the federal defender's investigator) and a federal task force whose case
or report it is; another state's officer by the state alone (a detective, a parole officer, the
state's justice department, "the NV guys") with the reply going back to them; what the search
finds pushed to a multistate or national pool other states read; a requester said outright to
be private or not police, a skip trace for a company, a collections man, a documentary's
producer.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings, load_settings
from tests.unit.screening_cases import CONFIG, assert_clean, decide

FEDERAL = ReasonCode.FEDERAL_AGENCY
OUT_OF_STATE = ReasonCode.OUT_OF_STATE_AGENCY
PRIVATE = ReasonCode.PRIVATE_ENTITY


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(CONFIG)


@pytest.mark.parametrize(
    "text",
    [
        # a federal body or a pool named with our own case, a private party as the victim
        "our EPA grant audit, count the trucks at the dump for the county report",
        "the vendor's national database shows the stolen Kia, recover it for our auto theft case",
        "the private security guard was assaulted in the garage, suspect's grey Civic, our case",
        "our own collections department reported the cashier embezzled, her car",
        "ran the plate of the car reported stolen from the auto auction lot, our case 26-2211",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (text, FEDERAL)
        for text in (
            "the EPA criminal investigators want sightings of the tanker that dumped solvent",
            "Commerce export enforcement agent wants the reads on the flatbed going to the port",
            "Forest Service law enforcement ranger asked for hits on the firewood thief's pickup",
            "a DEA diversion investigator wants to know where the doctor's BMW parks",
            "the federal public defender's investigator asked where our witness parks",
            "I'm on the federal drug task force, this one goes into the federal report",
        )
    ]
    + [
        (text, OUT_OF_STATE)
        for text in (
            "Idaho detective working a runaway case thinks she came here, reply to him with hits",
            "the Washington DOJ investigator who called wants any reads on a grey Outback",
            "Arizona parole officer asked if his parolee's truck has been here, no CA warrant",
            "push the white box truck's reads into the nationwide sharing network so agencies in"
            " other states can use them",
        )
    ]
    + [
        (text, PRIVATE)
        for text in (
            "the claims adjuster (private) asked for the reads on the wrecked Audi, emailing them",
            "skip trace for a collections firm, their client's tan Sienna",
            "documentary producer asked where the racer parks, releasing to him",
        )
    ],
)
def test_the_classes_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] is reason, text
