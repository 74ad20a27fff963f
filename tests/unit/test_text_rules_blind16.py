"""The classes of miss blind 16 found, generalised: each class is tested with texts of its own
(other places, crimes, agencies and wordings), never the blind set's strings, next to the words
that must still stay clean.

Refused as a proxy (blind 16 misses): federal police and investigators by their own names (the
Federal Reserve Banks' police, the VA's police, a base's MPs, the Air Force's OSI, federal
probation, a federal task force officer typed short, the FBI's people or a field office by its
city, "4 the" for "for the"); a request said to have come from the party, what the search finds
emailed, relayed or going straight to it, or the party the ones getting it; another state's or
country's legal process (a subpoena or court order from another state, a foreign-jurisdiction
subpoena, an originating jurisdiction on a form, another state's statute as the crime, "NV
courtesy"); another state's officer asking us to run it for them; a Mexican state prosecutor,
state investigator or state police, a foreign consulate; tribal police and security; another
state's police in Hebrew, Greek, Armenian, Punjabi, Farsi and Japanese, the FBI in Farsi,
Japanese and Thai; private parties by trade or role (a film production's location manager, the
security of a church, a private hospital or a private college, a private university's
public-safety department, a private patrol company, a promoter's or a celebrity's security, an
app's trust and safety team, a neighbourhood app's admin, a genealogist, a campaign's staff, a
private citizen, a private person's own investigation).

Refused as prohibited_purpose (blind 16 misses): removal and the right to stay in Greek, Farsi,
Hebrew and Punjabi, and by pattern in Japanese and Thai (abortion and gender-affirming care
too); removal by its outcome or euphemism (people pulled or ordered out of the country, "no
business being in this country", a one-way ticket south, a status sweep, people not authorized
to work, a student's status terminated, expulsion proceedings, a fiancee visa, papers said not
to be real, a person born abroad with no social security number, "visiting" for years, "came
over the fence" to be reported, Mexico's migration institute); reproductive care by what was
done or said of it (a pregnancy "got rid of", a miscarriage brought on with pills, an ob-gyn
visit that "wasn't prenatal care", the clinic a partner wants to know, a doula network from
other states, who helped a daughter to a clinic) and gender-affirming care (a child "becoming a
boy", the endocrinologist next to a transition).

Flagged (blind 16 misses): a place of worship's people taken whole (every car at a service or a
festival, a congregation someone in command dislikes) and someone who filmed police, to be
identified; civil questions (nuisance abatement, a sick day checked for HR, a deposit argued
over, parking and traffic studies, a homestead exemption, a found wallet); the officer's own life
(the cameras catching them, a coworker acting oddly, their child's friend's parent, a date to be
vetted, their mother's caregiver, a spouse's car in Japanese); a nationality or origin with a
person and no crime; "See RMS" as the whole reason.

Hard negatives (false positives on blind 16): hate graffiti painted on a clinic, a person
beaten, someone who "posed as" an agent, a fake green-card lottery taking deposits, an agency's
marked gear stolen, a federal warrant next to our own case a few words on, "broke into my car"
quoted from a victim, someone going to a clinic assaulted outside it by a protester.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import FEDERAL, OUT_OF_STATE, PRIVATE, assert_clean, decide


@pytest.mark.parametrize(
    "text",
    [
        # a consulate, a church, a tribal casino or a campus as the victim or where it happened
        "the Guatemalan consulate's front window was smashed overnight, 594, suspect on video",
        "temple security reported a suspicious car circling the lot during services",
        "tribal casino cashier robbed at gunpoint, suspect fled in a gray Altima, our case",
        "Cal State campus police need help: sexual battery suspect drove a black Jetta",
        "community college police: catalytic converter thefts in the staff lot",
        # another state named only as where the suspect is wanted or fled, our own case
        "our robbery case 25-1188; the suspect grew up in Oregon and is staying with family here",
        "suspect fled toward Nevada after the shooting here, our homicide, need his route",
        # a subpoena or court order of our own
        "our search warrant signed by a Superior Court judge here, vehicle history for the 187",
        # a person doing their own thing, nothing handed over
        "the victim's brother was doing his own canvass and found the car on Elm, our case",
        "our detective is running his own investigation into the burglary series, case 25-0456",
        # the purpose classes' words about a crime, a school or a car
        "student expelled after the fight; expulsion hearing at the district, no police matter"
        " for us, our assault case 25-0777 only",
        "unlicensed contractor not authorized to work on the roof took the deposit, our fraud case",
        "burglary suspect jumped over the fence into the backyard, fled in a gray Civic",
        "woman in labor after the crash on Elm, miscarriage feared, DUI driver fled",
        "the nurse's car was keyed in the women's clinic lot, which clinic staff saw the vandal",
        "the newborn was abandoned near the church; who got rid of the baby, find the car",
        # the flag classes' words next to a crime, a missing person or a suspect description
        "mosque burglarized during Friday prayers, suspect car on the lot camera",
        "elderly man with dementia wandered from the temple after the evening service",
        "the photographer who shot the wedding had his camera bag stolen, suspect van",
        "victim's wallet and phone were stolen at the bus stop, suspect fled in a red Kia",
        "witness describes an Indian male, 30s, who robbed the liquor store, fled in a Prius",
        # blind 16's false positives, paraphrased
        "swastika spray painted on the family planning clinic door, suspect van on video",
        "repo driver pistol whipped by the owner during the recovery, find the suspect",
        "woman posed as a DEA agent to get into the apartment and took cash, suspect car",
        "visa lottery scam taking deposits from immigrant families, suspect Camry, our case",
        "his 'Homeland Security' marked jacket was stolen from his truck overnight, theft case",
        "subject has a federal warrant too, this search is for our own robbery case 25-0991",
        "caller says 'someone broke into my car outside the gym', purse taken, case 25-3002",
        "clinic escort shoved outside the clinic by a protester, suspect left in a tan sedan",
        "ATF trace on the recovered pistol named a local buyer, our shooting case 25-0412",
        "our detective with the task force in Sacramento needs the reads for our robbery case",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (text, FEDERAL)
        for text in (
            "Federal Reserve police at the LA branch want the reads on a van seen near the vault",
            "VA police from the West LA VA campus want to know where the veteran's truck parks",
            "the base MPs at Pendleton need to know where the Marine's car goes off base",
            "AF OSI agents out of Edwards, pull reads on the Tacoma for them",
            "federal probation officer needs her client's locations for the violation report",
            "Fed TFOs asked for the plate history on this Impala",
            "the folks from the Bureau asked for the hits on the white Escalade",
            "results go straight to the agent at the Bureau's Fresno field office",
            "run it 4 the feds, they want his movements",
            "request originated with the ATF group in Oakland, they want the truck's reads",
            "the hits are to be forwarded to the federal task force officer on the case",
            "به درخواست پلیس فدرال، نتایج برای آنها ارسال شود",
            "連邦捜査局からの依頼で記録を送る",
            "DEA ask, pull the Charger's reads",
            "for the ATF, trace the straw purchaser's truck",
        )
    ]
    + [
        (text, OUT_OF_STATE)
        for text in (
            "per the guy from the Reno PD burglary unit, pull the last two weeks",
            "info goes straight to the Boise detective, nothing here",
            "responding to an Idaho court order for the owner's vehicle history",
            "assembling reads for a foreign-jurisdiction subpoena from Utah, no CA case",
            "Requesting agency: Nevada. Reason: stolen trailer.",
            "AZ courtesy run",
            "NRS 205.060 burglary out of Reno, assisting their detective",
            "the truck is wanted in Oregon, and their sergeant is who I'm sending the reads to",
            "caller from across the line in Bullhead City asked, could you run it for us, our"
            " cameras are down",
            "Fiscalia General del Estado de Sonora requests history on the pickup",
            "Tijuana state investigator wants the sedan's reads",
            "policia municipal asked for the plate's movements, assault in Tecate",
            "Honduran consulate wants to know where her car has been",
            "Pechanga tribal police asked for reads on the Silverado for their case",
            "tribal gaming commission wants to know if the car has been at the casino",
            "בקשה ממשטרת נבאדה, התוצאות יישלחו אליהם",
            "αιτημα απο την αστυνομια της Νεβαδα για το αυτοκινητο",
            "Նևադայի ոստիկանության խնդրանքով",
            "ਅਰੀਜ਼ੋਨਾ ਪੁਲਿਸ ਦੀ ਬੇਨਤੀ",
            "アリゾナ州警察の依頼で車両記録を調べる",
            "a detective with the police department in Boise called; it is their burglary, he wants"
            " the reads",
        )
    ]
    + [
        (text, PRIVATE)
        for text in (
            "the studio's location manager wants to know whose cars block the shoot",
            "mosque security team asked who parks in their lot every Friday",
            "security at the private university wants to see where the student's car went",
            "Pepperdine public safety asked for the history on a visitor's car",
            "private patrol officer from the HOA wants reads on a car at the gate",
            "festival promoter wants to know where the ticket reseller's van goes",
            "the actor's bodyguard asked for the photographer's car history",
            "trust and safety team at the rideshare app requests the driver's locations",
            "community app moderator wants the car's trips posted",
            "an heir hunter asked if we could find the owner of the RV",
            "campaign aide wants to know which cars visit the rival's office",
            "private citizen wants the reads on her ex's car",
            "the victim's mom has been doing her own investigation, I'll email her the reads",
        )
    ],
)
def test_the_classes_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] is reason, text


@pytest.mark.parametrize(
    "text",
    [
        "ο οδηγος δεν εχει χαρτια, θελουμε τη διευθυνση για απελαση",
        "صاحب ماشین اقامت قانونی ندارد، برای دیپورت آدرسش را پیدا کنید",
        "הנהג שוהה בלתי חוקי, צריך כתובת לגירוש",
        "ਡਰਾਈਵਰ ਕੋਲ ਕਾਗਜ਼ ਨਹੀਂ ਹਨ",
        "所有者は不法滞在。自宅を調べる。",
        "คนขับอยู่เกินวีซ่า หาที่อยู่",
        "the agents plan on getting families out of the country, list their cars",
        "the man was ordered out of the United States last year, where does he sleep",
        "she has no right to be in this country, find her van",
        "one-way trip home for this guy, need the address",
        "papers sweep at the car wash Monday, which cars are there",
        "find the cars of the packers who are not authorized to work here",
        "his F-1 status was revoked, did he ever leave, run the Corolla",
        "her green card isn't real, the boss wants her removed, where does she park",
        "the fiance visa petition fell through and he's still here, find him",
        "born overseas and no social security number, the field office wants his routine",
        "he's been visiting for ten years, time to go, where does he park",
        "the guy next door came over the wall, find his job so we can report him",
        "her father says she got rid of the pregnancy last month, trace her car",
        "the miscarriage was brought on with pills, her mom says, map the trips",
        "that gyn appointment was not prenatal care, find where she drove",
        "her ex wants to know which clinic she went to",
        "doulas driving women in from out of state, list the cars",
        "whoever drove their granddaughter to the clinic in Oakland, the family in Texas asks",
        "his son is becoming a girl at school, find the endocrinologist visits",
    ],
)
def test_the_purpose_classes_refuse(settings: Settings, text: str) -> None:
    assert decide(settings, text)[0] is ReasonCode.PROHIBITED_PURPOSE, text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("all cars at the synagogue during the Passover service", "protected_activity"),
        (
            "the church the captain doesn't like, every car at the Sunday service",
            "protected_activity",
        ),
        ("the streamer who filmed the stop on Main, find his car", "protected_activity"),
        ("nuisance abatement hearing on the rental, is the owner living there", "non_criminal_use"),
        ("HR wants to know if she was home on the sick day she took", "non_criminal_use"),
        (
            "roommates fighting over the security deposit, find the one who moved out",
            "non_criminal_use",
        ),
        ("traffic study for the new bike lane grant, count the cars", "non_criminal_use"),
        ("does the owner live at the homeowners exemption address", "non_criminal_use"),
        ("found keys in the lot, want to find whose car they go to", "non_criminal_use"),
        ("did the camera catch me leaving the gym, check", "personal_use"),
        ("dispatcher has been acting strange around me, where does she go", "personal_use"),
        ("my daughters friends parents, want to know where they live", "personal_use"),
        ("blind date tomorrow, checking out the guy first", "personal_use"),
        ("my mom's aide, is she really taking her to the doctor", "personal_use"),
        ("夫の車がどこに行っているか確認", "personal_use"),
        ("Iranian guys in a BMW parked by the school, see where they go", "profiling"),
        ("Romanians in a minivan at the ATM, watch them", "profiling"),
        ("see rms", "vague_justification"),
    ],
)
def test_the_classes_flag(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and rule in flags, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("per the DEA agent, he posed the question: where does the Tahoe go", FEDERAL),
        (
            "the women's health clinic visit, did she have the procedure, trace her car",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
    ],
)
def test_the_same_words_without_the_crime_still_refuse(
    settings: Settings, text: str, reason: ReasonCode
) -> None:
    assert decide(settings, text)[0] is reason, text
