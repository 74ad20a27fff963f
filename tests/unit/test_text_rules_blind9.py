"""The classes of miss blind 9 found, generalised: each class is tested with texts of its own
(other agencies, counties, firms, languages and wordings), never the blind set's strings, next to
hard legitimate texts with the same words that must stay clean.

Refused up front as prohibited_purpose: removability said as a person's status ("now
deportable"); removal said as a return (a one-way trip home to a country, a ride south before a
court date) or by its papers and steps (a "bag and baggage" notice, an appeal dismissed by the
BIA, a final order, a "paperless" worker); a detention site's transport or intake wanting
someone; short phrases in Korean, Russian, Armenian, Arabic, Vietnamese and Chinese; care
described instead of named (the morning-after pill, a pregnancy "lost" next to a trip, a friend
helped to get a procedure another state sues over).

Refused up front with the party's code: the FBI as "the Federal Bureau", the FAA, air marshals,
a federal prosecutor, the federal DOJ said to be so; a city bureau's short name, a sheriff "of"
a county across the line, police of Mexico and Canada in English or Spanish; a lender's finance
people, an insurer's fraud unit, a platform's trust and safety team, a venue's private security,
the press asking with words between, private parties in Spanish, Vietnamese, Russian, Korean and
Chinese; a search run "for a friend who's" one of them.

Hard negatives: hardware that is removable, a suspect who took a bus south, a detention site's
name on a pickup or a van, a dealer's employee as the suspect, a guard reporting a fight, a
threat to report someone in the suspect's words in Spanish ("te voy a deportar"), "no" that is
not a number after an agency, immigrant farmworkers as the victims, a pregnancy lost to a crash,
the morning after a shooting, California places named like other states' counties, a fugitive
who fled across the line or went back to his country, robbers wearing an agency's patch, a
clinic's or a smuggling load house's victims.

Flagged for review: who visits a clinic as the aim, people who spoke or organised against
officials, protests and strikes in Spanish; code enforcement abbreviated, civil papers served,
street sweeping data, a parking permit's residency; people named by nationality alone; the
officer's own trail, a partner's word checked, a colleague's family at the colleague's request.
Not: a victim's partner, a threat against an official, a crime against the code officer or a
public works truck, a robbery suspect described, demonstrators' property as the victim, a
courier's van typed "fed ex".
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import FEDERAL, OUT_OF_STATE, PRIVATE, assert_clean, decide


@pytest.mark.parametrize(
    "text",
    [
        # removability as a status
        "she is now deportable after the conviction, find her car",
        "he's removable now, run the truck",
        # removal as a return, or by its papers and steps
        "get him a one way ticket home to Guatemala, need his address first, feds waiting",
        "make sure she gets a trip south before her court date, locate",
        "he ignored the bag and baggage notice, where is his van",
        "BIA dismissed her appeal, locate the minivan",
        "final order of removal issued, run his plates",
        "paperless laborers at the packing house, find the crew van",
        # removal as a deadline or a return ordered
        "she has to be out of the country by Friday, locate her van",
        "his departure deadline passed, find him before he goes home",
        "make sure he goes back home to Honduras like the judge said",
        # an immigration agency by its patch, asking
        "the guys with the DHS patch asked for the plate",
        "the agency with the eagle patch wants his car",
        # a detention site's transport or intake
        "Mesa Verde intake wants him, locate his car",
        "Otay Mesa transport could not find her, where does she park",
        # other languages
        "불법체류 중인 사람, 차량 찾기",
        "추방 예정자 위치",
        "нелегалы на стройке, найти фургон",
        "депортировать его, где машина",
        "ներգաղթյալ առանց թղթերի, find car",
        "ترحيل المشتبه به - locate car",
        "ներգաղթի ծառայության խնդրանքով, find veh",
        "visa het han roi, tim dia chi",
        "非法移民 车辆",
        "他被遣返之前 找车",
        "她去了堕胎诊所吗",
        # care described instead of named
        "did she get the morning after pill at the clinic, check her car",
        "she lost the baby conveniently after a trip to Oregon, track her",
        "helped her sister get an abortion, Idaho wants to sue, route please",
    ],
)
def test_described_removal_and_care_are_refused(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] == ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # federal agencies by loose or short names
        ("the Federal Bureau wants 60 days on this plate", FEDERAL),
        ("faa inspector asked for reads on the hangar lot", FEDERAL),
        ("air marshal asked me for the history", FEDERAL),
        ("for the federal prosecutor, send the hits", FEDERAL),
        ("DOJ the federal one asked for reads", FEDERAL),
        ("FBI asked, no paperwork", FEDERAL),
        # agencies across the line or the border
        ("Denver PB, their robbery, send them the hits", OUT_OF_STATE),
        ("per the sheriff of Maricopa, run it", OUT_OF_STATE),
        ("deputy from Douglas County asked for the reads", OUT_OF_STATE),
        ("Tijuana police request, stolen truck", OUT_OF_STATE),
        ("para la policia de Mexicali, buscar el carro", OUT_OF_STATE),
        ("RCMP liaison requesting reads", OUT_OF_STATE),
        ("Guardia Nacional request via liaison", OUT_OF_STATE),
        ("Stateline deputy (Nevada side of Tahoe) wants the reads", OUT_OF_STATE),
        ("the Nevada side of the lake asked for hits", OUT_OF_STATE),
        ("Incline Village deputies asked for our reads", OUT_OF_STATE),
        ("State Farm's fraud unit asked where the truck was parked", PRIVATE),
        # private parties, in English and other languages
        ("the lender's finance manager asked where the car sleeps", PRIVATE),
        ("insurer's fraud unit (Geico) asking where it was parked", PRIVATE),
        ("Lyft trust and safety asked for the driver's route", PRIVATE),
        ("private security at the casino asked for the plate's visits", PRIVATE),
        ("a pedido de una investigadora privada, buscar la camioneta", PRIVATE),
        ("la compania de seguros pidio la ubicacion", PRIVATE),
        ("theo yeu cau tham tu tu, tim xe", PRIVATE),
        ("по просьбе страховой компании, найти машину", PRIVATE),
        ("사설탐정 의뢰로 차량 조회", PRIVATE),
        ("受私家侦探委托 查车", PRIVATE),
        ("news producer from the station wants the route for a story", PRIVATE),
        ("running for a buddy who's a repo man", PRIVATE),
    ],
)
def test_parties_named_loosely_or_in_other_languages_are_refused(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] == reason, text


@pytest.mark.parametrize(
    "text",
    [
        "the removable faceplate was stolen from the stereo, 487",
        "the plates are now removable, bolts cut, 10851",
        "suspect took a bus south after the robbery, PC 211",
        "suspect caught a ride south on the 5 after the stabbing, 245",
        "Adelanto pickup truck stolen from the lot, 10851",
        "California City van involved in hit and run, 20001",
        "dealer's finance manager embezzled funds, PC 503, locate his car",
        "casino security called about a fight, PC 245, susp fled in a truck",
        "victim said her husband threatened 'te voy a deportar', PC 422, locate him",
        "FBI no. 123456789 on the rap sheet, our 459 suspect",
        "labor trafficking of immigrant field workers, PC 236.1, locate the contractor flatbed",
        "victim lost the baby after the DUI crash, PC 191.5, locate driver",
        "morning after the shooting a witness saw the car, PC 246",
        "police in Jackson reported a stolen truck, 10851",
        "deputies in Carson recovered the car, 10851",
        "suspect fled to the Nevada side of the lake after the 211, our case",
        "Stateline casino valet lot burglary, PC 459",
        "suspect went back to Mexico to avoid the warrant, PC 187, locate his brother's car",
        "suspect wore a vest with the ICE patch during the robbery, PC 211",
        "men wearing a DHS patch demanded money, PC 518, locate their SUV",
        "State Farm's insured reported her car stolen, 10851",
        "stolen car taken from the gender clinic staff lot overnight, 10851",
        "hostages held for ransom at a human smuggling load house, PC 209, locate the SUV",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "plates near the health center on Elm, want to know who's visiting on Tuesdays",
            "protected_activity",
        ),
        ("cars at the school board where they shouted at the superintendent", "protected_activity"),
        (
            "people who organized against the ordinance at the library, get their plates",
            "protected_activity",
        ),
        ("manifestacion frente al ayuntamiento, sacar las placas", "protected_activity"),
        ("huelga en la planta, identificar los carros de los huelguistas", "protected_activity"),
        ("code enf officer asked how long the camper has been parked there", "non_criminal_use"),
        ("need to serve civil harassment order papers, where does she park", "non_criminal_use"),
        ("street sweeping violations data for the city", "non_criminal_use"),
        (
            "parking permit application says she lives on Oak, verify her claim of residency",
            "non_criminal_use",
        ),
        ("Korean guys at the karaoke place, run the plates", "profiling"),
        ("my own truck, curious how many readers picked me up this week", "personal_use"),
        ("fiance swears he was at the gym, check his car", "personal_use"),
        ("sgt's wife's car, he asked me to as a favor", "personal_use"),
    ],
)
def test_flag_worthy_classes_are_flagged(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and rule in flags, text


@pytest.mark.parametrize(
    "text",
    [
        "victim's girlfriend said he was at the bar before the shooting, 245",
        "suspect yelled at the mayor and threatened to kill him, PC 422, locate",
        "code enforcement officer assaulted on Elm, PC 245, susp veh",
        "public works truck stolen from the yard, 10851",
        "Korean guys robbed the jewelry store, PC 211, susp veh from video",
        "demonstrators' banners stolen and a car vandalized, 594, susp veh on video",
        "march organizer received a bomb threat, PC 422, locate susp veh",
        "FedEx van stolen from the depot, 10851",
        "fed ex driver robbed on route, PC 211",
    ],
)
def test_flag_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


# Classes blind 8 left unfixed (the known weak ones), generalised the same way: removal as a
# return home or a deadline, agencies by their people, gear, address, floor or window, a Mexican
# agency in Spanish, a lender's or dealer's people handed the results, a smuggler's crossing, an
# unaccompanied child's sponsor, a pregnancy ended at a clinic or said to be over, a child's care
# as why a family moved; flagged: stickers and signs against the police or a policy,
# missionaries door to door, traffic counts for planning, a jury summons skipped, a business run
# out of a garage, a nation's flag decal as the suspicion.
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("check if he went home to TJ like he was supposed to, run the van", None),
        ("the court gave her until June to leave the country, is the car still around", None),
        ("the window downtown that handles green cards asked for her address", None),
        ("crossed with a coyote last spring, find where he sleeps", None),
        ("unaccompanied minor who crossed in May, find the sponsor's car", None),
        ("so she can be sent back, locate the minivan", None),
        ("did she go to the health center on 5th to end it", None),
        ("moved here from Idaho so their son could get hormones, track the car", None),
        ("she was 10 weeks along and now isn't, where did she drive", None),
        ("the Department of Justice (the federal one) wants our hits", FEDERAL),
        ("for the guys with ATF on their jackets, run this", FEDERAL),
        ("for the folks at 450 Golden Gate, they need the reads", FEDERAL),
        ("agencia de Mexicali pidio los registros", OUT_OF_STATE),
        ("asset recovery rep from the credit union asked where the car is", PRIVATE),
        ("handing the reads to someone from the dealership, they'll handle it", PRIVATE),
    ],
)
def test_earlier_weak_classes_are_refused(
    settings: Settings, text: str, reason: ReasonCode | None
) -> None:
    assert decide(settings, text)[0] == (reason or ReasonCode.PROHIBITED_PURPOSE), text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Defund the Police stickers on cars near the station, run them", "protected_activity"),
        ("people holding signs against the curfew, get the plates", "protected_activity"),
        ("missionaries going door to door on Pine, run their cars", "protected_activity"),
        ("traffic volume counts on Main for the planning department", "non_criminal_use"),
        ("skipped jury duty twice, see if he is home", "non_criminal_use"),
        ("business license question, is she running a salon out of her garage", "non_criminal_use"),
        ("vehicles with Honduras flag decals at the park", "profiling"),
    ],
)
def test_earlier_weak_flag_classes_are_flagged(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and rule in flags, text


@pytest.mark.parametrize(
    "text",
    [
        "went back to Mexico after the shooting to avoid arrest, warrant PC 187",
        "suspect ran back home to his mom's after the robbery, PC 211",
        "unaccompanied minor missing from the airport, at risk, locate the uncle's car",
        "so he can be sent back to prison on the parole hold, locate",
        "parolee violated, so he can be sent back to CDCR, locate the truck",
        "coyote seen near the school, animal control, no plates",
        "ATF trace on the recovered gun, our 211 case, for the guys at the lab",
    ],
)
def test_earlier_weak_class_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)
