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

Refused as prohibited_purpose (blind 14 misses): removal said by the permission to be here or its
end, with no agency named ("permitted to stay in the country", "legit or need to go back", people
said not to be legal next to who they are, "supposed to leave after her hearing", a petition
denied, a detained docket, a detention bed, a deportation flight, parole at the border run out, a
removals unit, people to be sent back, papers checked), also in Spanish, Tagalog and Vietnamese;
reproductive care told by its signs (bleeding after pills, prenatal visits stopped, a pregnancy
that "now isn't", a drive to "the procedure", procedures past a number of weeks, a baby aborted,
help with missed periods, "took care of it" out of state) and gender-affirming care as puberty
blocking or a trans youth clinic.

Flagged (blind 14 misses): civil and administrative offices' questions (a jury summons ignored, an
estate in probate, a resident parking permit, short-term rental enforcement, the tax assessor, a
candidate's residency, a business licence for the city clerk); someone who crossed the officer, a
boss's relative's new partner, a neighbour's kid traced to a house; race typed short, a gang's
look, a route's profile, "find something", a nationality with its workplace's van; a superior to
be asked or an earlier day pointed to as the whole reason.

A plain "not ours" may come a long sentence after the agency's name: the window of the entries
that look for it next to an agency reaches 20 words (the largest a rule may set, raised from 12).

Hard negatives (false positives on blind 14): a crime against a clinic's staff or the press a
sentence away from the clinic's or the story's name (not only a few words), a retired officer of
an immigration agency as the victim, the film "Alien" shown where a crime happened.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import assert_clean, decide


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
        # the removal and care classes' words about a car, a crime here or a victim
        "his window tint isn't legal and the plate light is out, stop for vehicle code only",
        "the lifted truck's exhaust is not legal; owner keeps racing on Elm at night",
        "suspect was supposed to stay away under the restraining order but keeps driving by her"
        " house",
        "he was told to leave the bar after the fight and came back with a bat, assault suspect",
        "driver couldn't show his license or registration papers, checked for papers at the"
        " stop, car towed",
        "the store's returns team reported a fraud ring returning stolen goods, suspect van",
        "the nurse's car was stolen from the women's health center lot during her shift",
        "the pharmacist was robbed of the pills after taking the delivery, suspect fled in a"
        " blue Kia",
        "victim's daughter drove her to the procedure at Kaiser; their car was stolen from the"
        " garage",
        "the suspect fled back to Tijuana after the shooting, check his route to the border",
        "the robbery crew took the bus back to Tijuana after the heist, last reads on the"
        " getaway car",
        "bus driver assaulted at the depot by a man who boarded the bus back to Fresno",
        "she said she handled it herself after the collision; hit and run suspect car gray",
        "ipapauwi ang bata sa lola niya, hit and run witness",
        # the flagged classes' words next to a crime, a victim or a suspect's description
        "juror's car stolen from the courthouse garage, suspect seen on camera",
        "probate attorney's office burglarized overnight, suspect van on video",
        "the tax assessor's office was vandalized, graffiti suspect seen leaving in a white Civic",
        "stolen Airbnb guest's rental car, suspect seen on the host's doorbell camera",
        "suspect described as blk male adult, red hoodie, fled the robbery on foot",
        "witness says the shooter was gangster looking, dark sedan, our homicide case",
        "victim's daughter's new boyfriend assaulted her, suspect drove off in a gray truck",
        "missing 8 year old, neighbors don't know which house he's from, last seen on Elm",
        "Korean restaurant burglarized, suspect van seen leaving",
        "search warrant served yesterday, follow up on the seized car's history for the 459 case",
        "same suspect as last week's burglary on Elm, gray Tacoma",
        "jury summons fraud scam calls, suspect's car on camera at the ATM",
        # (blind 14's false positives) the crime a sentence away, a retired officer as the
        # victim, the film
        "burglary at the theater during the Alien double feature, suspect in a gray van",
        "the victim, a retired Border Patrol agent, was carjacked at the mall, our case",
        "assault on a receptionist outside the gender clinic, suspect fled in a black SUV, our"
        " case",
        "threats against a nurse who works at the reproductive health clinic, suspect's Jeep seen"
        " twice",
        "photographer covering the wildfire had her truck broken into at the staging area, our"
        " case",
        "reporter's camera bag stolen from her car while she covered the crash, suspect on video",
        # a department's own bureaus, named with their word
        "the detective bureau guys found the stolen Civic, our case",
        "records bureau folks need the report number for the stolen Jeep, our case",
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
        # "the Bureau" by its people alone
        (
            "the Bureau guys want plate history on the Civic - their case, not our case",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "the bureau folks asked us to pull reads on the Jeep, not ours",
            ReasonCode.FEDERAL_AGENCY,
        ),
        # the same words with no crime against anyone still refuse
        (
            "who took her to the reproductive health clinic last week, run the boyfriend's car",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "mom drove the teen to the gender clinic in SF, track her van",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("load of aliens in the camper shell, find the camper", ReasonCode.PROHIBITED_PURPOSE),
        # removal by the permission to be here or its end
        *(
            (text, ReasonCode.PROHIBITED_PURPOSE)
            for text in (
                "not a crime, just confirm whether she is permitted to stay in the country",
                "see if the roofing crew are legit or need to go back, start with the foreman's"
                " truck",
                "most of the Honduran guys at the landscaping yard aren't legal, run their trucks",
                "find the Guatemalan woman who was supposed to leave after her asylum hearing",
                "his visa petition got denied and he was ordered to leave, where does he park",
                "man on the detained docket missed court, last reads please",
                "Adelanto bed is ready for her, need her car's last location",
                "she is on next week's deportation flight manifest, locate her car",
                "family was paroled at the border and the parole ran out, address for the team",
                "locate for the removals unit, home and car",
                "list of folks to be sent back for the Friday op, need plates",
                "checking the tenants' papers at the complex tomorrow, run the cars in the lot"
                " first",
                "no tienen papeles, ubicar la camioneta",
                "ipapauwi siya sa Pilipinas, hanapin ang kotse",
                "tim xe de gui chi ta ve nuoc",
                # reproductive and gender-affirming care by its signs
                "came to the ER hemorrhaging after she took some pills, find where she got them",
                "her prenatal visits stopped in March, where has her car been",
                "who drove her to the procedure last Tuesday? run the boyfriend's plate",
                "did her car go to the clinic downtown that does abortions past 20 weeks",
                "he says she aborted their baby in secret, run her Civic",
                "find the herbalist who helps girls with missed periods",
                "was the boy taken for puberty blocking treatment? run the aunt's car",
                "is mom taking him to the trans youth clinic in Oakland",
                "she was 18 weeks along in June and now she isn't, where did she drive",
                "her sister says she took care of it out of state, check the Corolla",
            )
        ),
    ],
)
def test_the_classes_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] is reason, text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("skipped jury duty twice, the court asks if she still lives here", "non_criminal_use"),
        ("estate dispute: siblings fighting over the late father's RV", "non_criminal_use"),
        (
            "neighborhood parking permit complaint, is she actually a resident of the block",
            "non_criminal_use",
        ),
        ("VRBO compliance check, count the guest cars at the cabin", "non_criminal_use"),
        ("the assessor's office wants to know where the RV is garaged", "non_criminal_use"),
        (
            "check the council candidate's address for the residency challenge",
            "non_criminal_use",
        ),
        ("city clerk asked us to confirm the business license address", "non_criminal_use"),
        ("the parking officer who ticketed me, where does she live now", "personal_use"),
        ("the captain's niece's new boyfriend, lt wants me to check on him", "personal_use"),
        ("kids on my street keep speeding, find out which house they are from", "personal_use"),
        ("hisp males in a lowrider, check them", "profiling"),
        ("gangbanger looking kids in a Civic, see where they go", "profiling"),
        (
            "Camry with Arizona plates fits the corridor profile, find something to stop him",
            "profiling",
        ),
        ("Korean nail salon van, follow where they go", "profiling"),
        ("same as last time", "vague_justification"),
        ("per sgt, ask him", "vague_justification"),
    ],
)
def test_the_classes_flag(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and rule in flags, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "ATF resident agent in Fresno called about the gray Silverado that parks near the gun"
            " show most weekends; no local case",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "Utah Highway Patrol report on the gray Altima seen near the county fairgrounds twice"
            " this month came in by email; no California nexus",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
    ],
)
def test_not_ours_a_long_sentence_after_the_agency_refuses(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] is reason, text


def test_our_own_case_a_long_sentence_after_the_agency_is_not_refused(settings: Settings) -> None:
    text = (
        "ATF resident agent in Fresno told us about the gray Silverado seen at our burglary scene"
        " near the gun show; it is our case"
    )
    assert decide(settings, text)[0] is None, text
