"""The classes of miss blind 15 found, generalised: each class is tested with texts of its own
(other places, crimes, agencies and wordings), never the blind set's strings, next to the words
that must still stay clean.

Refused as a proxy (blind 15 misses): a federal party by its people or what it runs (Treasury's
and the Air Force's criminal investigators, the FBI by its raid jackets, its academy, its Los
Angeles field office by where it is, a federal grand jury's case agent, the federal courthouse in
Los Angeles; the FBI in Korean and Russian); an officer of another state named by their city's
police, their precinct or agency in a town, "state troopers", the area code of the number they
gave, a warrant "out of" their state with us only assisting, their extradition file, or a
county's sheriff in Portuguese; their people and desks, what they will do once given the results
("they'll pick it up if we give them a location"), the results to go back to them; private parties
by role or trade (a mall's or card room's security people, a buy-here-pay-here lot, a rental car
company, a school's admissions office; a landlord in Haitian Creole and Chinese, a recovery or
insurance company in Arabic and Portuguese, an owner's company in Hindi), the results sent to
someone's employer, and a private person (an ex, an estranged spouse's friend) asking where
someone parks or lives.

Refused as prohibited_purpose (blind 15 misses): removal by the programmes and steps of its law
(temporary protected status ended, a voluntary return, "remigration", a removal pending or its
notice, or said not to be a tow, a person's status to be reported next to papers they lack, a
family put on the next flight to their country, whether someone went back as promised to the
agents, a person to be sent home whose address is sought), also in romanised Korean, Haitian
Creole and Hindi; reproductive care told by its euphemisms (a pregnancy "lost" on purpose or got
rid of, a girl gone to a place "to end it") and in Portuguese, Haitian Creole and Hindi;
gender-affirming care by its surgeries' clinical names or "reassignment surgery", puberty
suppression by its medicines, a child taken for "shots" every week or two, a person
transitioning without parental consent and the hormone provider, and a sex change or transition
in Hindi, Portuguese, Russian, Korean and Chinese.

Flagged (blind 15 misses): a colleague to be asked for the details as the whole reason, haste,
a radio code, a shift, a report's letters or the tool's own login as the only words
(vague_justification); a Southeast Asian group or a grow crew as a crime label, race with a
person in Korean (profiling); the officer's rival for a promotion, their own landlord, their
child's coach, a partner or an ex in Korean and Chinese (personal_use); a city's tourism count,
an employee's sick days for a workers' compensation hearing (non_criminal_use).

Hard negatives (false positives on blind 15): a gathering attacked (things thrown at it, a
battery its people report, a car driven into a march named by its cause); a cause's march or
rally as where the crime happened; a federal office as the victim of vandalism; an abortion
provider who has been threatened or followed; a load of medicines hijacked; a victim's ex under a
protective order; a bill skipped out on (defrauding an innkeeper); people freed from traffickers,
workers without papers as the victims, an undocumented witness or victim helping us. The same
words with no crime, no victim, still refuse or flag.
"""

from __future__ import annotations

import pytest

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.settings import Settings
from tests.unit.screening_cases import assert_clean, decide


@pytest.mark.parametrize(
    "text",
    [
        # the same words next to our own case, a victim, a vehicle or a witness; numbers that
        # are Penal Code sections; a stalking victim's report; a suspect who fled
        "victim's ex-husband is the suspect; she says he keeps asking where she parks, stalking"
        " case",
        "suspect called the victim from a 702 number, threats, our case",
        "602 PC trespass at the warehouse, suspect in a white Ford, our case",
        "503 PC embezzlement by the store clerk, her car seen on video",
        "mall security guard reported a car break-in in the north lot, suspect on video",
        "used car lot burglarized overnight, two cars stolen, our report",
        "our detective in Seattle for training called, our case, run the Camry",
        "Treasury check fraud at the bank, suspect cashed stolen checks, our case",
        "the Roybal courthouse clerk reported her car stolen from the lot, our case",
        "HR at the hospital reported a nurse's car stolen from the staff lot, our case",
        "pending removal of the abandoned vehicle on Elm, find the RO",
        "graffiti removal pending at the underpass, tagger's car seen on video",
        "suspect fled and went back to Mexico after the shooting, our warrant",
        "sending him home from the hospital, ride needed, no case",
        "hit and run victim's son goes for allergy shots every week, witness to the crash",
        "report her status as a witness to the DA, our assault case",
        "carjacking suspect took a flight to Guatemala, our warrant",
        "testing a new Lupron shipment theft from the pharmacy, burglary suspect on video",
        "warehouse burglary, tps report missing? no, copier stolen, suspect van on video",
        "his status can be reported to probation once he checks in, our case",
        "ask the victim for the details of the 459, suspect van on video",
        "call Det. Ruiz for details on the stolen Civic, our case",
        "Hmong New Year festival parking lot hit and run, suspect in a gray Camry",
        "coach from the kid's soccer league reported his truck stolen, our case",
        "kid's soccer coach is the suspect in the 288 case, victim's mother reported",
        "workers comp fraud investigation 1871.4, claimant seen lifting on video, our case",
        "victim called in sick after the assault, suspect's car seen at her house",
        "someone hurled rocks from an SUV at the peace march, two marchers hurt, assault case",
        "assault reported by three demonstrators at the climate rally, suspect left in a red Kia",
        "van plowed into the labor march downtown, two injured, suspect vehicle fled",
        "a man smashed the windows of the Social Security office last night, our vandalism case",
        "graffiti at the FBI building lobby door, our vandalism report, suspect on camera",
        "the nurse who performs abortions has been followed home by a gray sedan after threats,"
        " find the stalker",
        "truck carrying misoprostol and other drugs hijacked at the depot, driver assaulted,"
        " track it",
        "her ex won't stop showing up at her work, protective order violation, victim reported",
        "diner skipped out on a 90 dollar tab, defrauding the restaurant, PC 537, find the car",
        "police freed six foreign nationals held in a trafficking stash house, find the drivers",
        "farmworkers without papers are the victims of wage theft and threats, find the boss's"
        " truck",
        "victim of the carjacking is an undocumented cook; he gave us the plate",
        "she is undocumented but cooperating, robbed at the bus stop, suspect car on video",
        "counter-protesters maced people at the trans rights rally and drove off, assault case",
    ],
)
def test_hard_negatives_stay_clean(settings: Settings, text: str) -> None:
    assert_clean(settings, text)


@pytest.mark.parametrize(
    "text",
    [
        # another state's agency or warrant told about our own case: mentioned, not refused
        "suspect fled to Phoenix, Phoenix PD said he was seen there, our warrant",
        "warrant out of Texas confirmed through NCIC, he is in custody here",
    ],
)
def test_another_state_named_in_our_own_case_is_not_refused(settings: Settings, text: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and flags == {"federal_or_out_of_state_proxy"}, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "IRS criminal investigation agents need the owner's travel for the tax case",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "Treasury special agents asked for a month of hits on the contractor's van",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "so the guys in the raid jackets with the big yellow letters can grab him on their"
            " warrant",
            ReasonCode.FEDERAL_AGENCY,
        ),
        ("send the hits to Quantico, their lab wants them", ReasonCode.FEDERAL_AGENCY),
        (
            "Air Force OSI special agent wants the reads on the sergeant's Tacoma pickup, their"
            " case",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "special agent from the Wilshire field office asked us to pull it",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "federal grand jury subpoena coming; the case agent needs the locations first",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "the marshal's deputy from the Roybal courthouse will pick up the results tonight",
            ReasonCode.FEDERAL_AGENCY,
        ),
        (
            "callback 503-555-0199, the detective there wants anything we get",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "call the sergeant back at the 602 number with whatever comes back",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "Caller with a 907 area code says he's a trooper, wants every hit this month",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "208 detective asking for reads, his burglary case up there",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "Phoenix PD asked for the hits, their carjacking suspect drove west",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        ("Metro over in Reno wants it, their robbery", ReasonCode.OUT_OF_STATE_AGENCY),
        (
            "the precinct in the Bronx emailed, their homicide suspect may be here",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        ("Idaho State Troopers requested reads on the truck", ReasonCode.OUT_OF_STATE_AGENCY),
        (
            "Denver detective says their fugitive is in the area, run it and email him",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "requested by an analyst with the Oregon DA, results to him",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "warrant out of Texas, we are just assisting; send hits to their warrants desk",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        ("need it for the extradition paperwork from Nevada", ReasonCode.OUT_OF_STATE_AGENCY),
        (
            "A pedido do xerife do condado de Washoe: localizar o carro",
            ReasonCode.OUT_OF_STATE_AGENCY,
        ),
        (
            "Store security manager asked for reads for their internal shrink investigation",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "cardroom security wants to know where the banned player lives",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "used car lot called, their tracker stopped reporting, asked if we can find it",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "car rental agency's recovery crew: overdue car, they'll come get it if we give them"
            " the location",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "school admissions office asked us to confirm the family's address in district",
            ReasonCode.PRIVATE_ENTITY,
        ),
        ("Met kay la mande kote machin lokatè a ye", ReasonCode.PRIVATE_ENTITY),
        ("طلب من شركة التأمين: موقع السيارة", ReasonCode.PRIVATE_ENTITY),
        ("A pedido da seguradora, onde o carro dorme", ReasonCode.PRIVATE_ENTITY),
        ("보험회사 요청으로 차량 위치 조회", ReasonCode.PRIVATE_ENTITY),
        ("по запросу ФБР, все данные", ReasonCode.FEDERAL_AGENCY),
        ("业主要求查这辆车", ReasonCode.PRIVATE_ENTITY),
        ("boss ne kaha, driver ki gaadi check karo", ReasonCode.PRIVATE_ENTITY),
        (
            "send the results to his employer, they want to check his route",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "her ex-husband showed up at the lobby asking where she is staying now",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "estranged wife (civilian) asked where he's been parking, for the custody case",
            ReasonCode.PRIVATE_ENTITY,
        ),
        (
            "his TPS was terminated last month, find where he works so he can be picked up",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("Temporary Protected Status holder, find the car", ReasonCode.PROHIBITED_PURPOSE),
        (
            "signed a voluntary return at the border and came back, check the reads",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("remigration target, need his address", ReasonCode.PROHIBITED_PURPOSE),
        (
            "no papers, only a foreign passport; his status can be reported once we know where"
            " he lives",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("report her immigration status, find the car first", ReasonCode.PROHIBITED_PURPOSE),
        (
            "put the whole family on the next flight back to Honduras, where are they staying",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("removal pending for the RO, confirm where she sleeps", ReasonCode.PROHIBITED_PURPOSE),
        (
            "intent to remove notice needs a current address for the driver",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("pending removal, not a tow, find where he is this week", ReasonCode.PROHIBITED_PURPOSE),
        ("see if he really went back to Mexico like he agreed to", ReasonCode.PROHIBITED_PURPOSE),
        ("getting her home: need her home address from the reads", ReasonCode.PROHIBITED_PURPOSE),
        (
            "mom says the girl went to a place in San Jose to end it, check the car",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "stepdad says the teen goes for shots every two weeks in SF, confirm the trips",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "the boyfriend thinks the pregnancy was lost on purpose, find her car at the clinic",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "neighbor says she got rid of the baby in LA, track the car that week",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("ver se ela foi interromper a gravidez na clínica", ReasonCode.PROHIBITED_PURPOSE),
        ("li te fè avotman, tcheke machin nan", ReasonCode.PROHIBITED_PURPOSE),
        ("garbhpaat ke liye gayi thi kya, reads check karo", ReasonCode.PROHIBITED_PURPOSE),
        ("phalloplasty patient from Texas, where did he drive", ReasonCode.PROHIBITED_PURPOSE),
        ("affirmation surgery in SF, check the trips", ReasonCode.PROHIBITED_PURPOSE),
        ("ling parivartan clinic visits, gaadi check karo", ReasonCode.PROHIBITED_PURPOSE),
        ("transição de gênero do adolescente, verificar a clínica", ReasonCode.PROHIBITED_PURPOSE),
        ("смену пола делает, проверить клинику", ReasonCode.PROHIBITED_PURPOSE),
        ("성전환 수술 병원 방문 확인", ReasonCode.PROHIBITED_PURPOSE),
        ("查他是不是去做变性手术", ReasonCode.PROHIBITED_PURPOSE),
        (
            "teen is transitioning without parental consent, find the car",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("Lupron for a 10 year old, which clinic", ReasonCode.PROHIBITED_PURPOSE),
        ("bulbeop cheryu, check car", ReasonCode.PROHIBITED_PURPOSE),
        ("madanm nan pa gen papye, jwenn machin li", ReasonCode.PROHIBITED_PURPOSE),
        ("uska visa khatam, wapas bhejna hai, ghar ka pata chahiye", ReasonCode.PROHIBITED_PURPOSE),
        (
            "find the doctor who provides abortions, she drives a Prius",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        (
            "check the car of the nurse who performs abortions at the clinic",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
        ("foreign national on a list, find where he sleeps", ReasonCode.PROHIBITED_PURPOSE),
        ("undocumented roofer, find him and his truck", ReasonCode.PROHIBITED_PURPOSE),
        ("workers without papers at the farm, find the vans", ReasonCode.PROHIBITED_PURPOSE),
        (
            "who went to the immigrant rights march, run their plates for ICE",
            ReasonCode.PROHIBITED_PURPOSE,
        ),
    ],
)
def test_the_classes_refuse(settings: Settings, text: str, reason: ReasonCode) -> None:
    assert decide(settings, text)[0] is reason, text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("see Officer Nguyen for the specifics", "vague_justification"),
        ("checking this really quickly", "vague_justification"),
        ("code 4, verified", "vague_justification"),
        ("per swing shift", "vague_justification"),
        ("DR# 25-004417", "vague_justification"),
        ("testing my new account access", "vague_justification"),
        ("Laotian weed crew, run the van", "profiling"),
        ("Cambodian grow op crew, follow the truck", "profiling"),
        ("히스패닉 남자 운전자, 조회", "profiling"),
        ("내 전처 차 위치 확인", "personal_use"),
        ("我老婆的车去哪了", "personal_use"),
        (
            "competitor for the lieutenant exam says he was at training, check his car",
            "personal_use",
        ),
        ("the apartment I rent, the owner says he lives out of state", "personal_use"),
        ("my daughter's swim coach, see where she goes on weekends", "personal_use"),
        ("tourism board wants the number of out of state cars at the pier", "non_criminal_use"),
        ("she called in sick three days, check if her car left home", "non_criminal_use"),
        ("workers comp claim hearing next week, where was his truck", "non_criminal_use"),
        ("list the cars at the immigrant rights march", "protected_activity"),
        ("my ex keeps texting me, where does he park now", "personal_use"),
        ("tenant skipped out on the lease, where is she now", "non_criminal_use"),
    ],
)
def test_the_classes_flag(settings: Settings, text: str, rule: str) -> None:
    reason, flags = decide(settings, text)
    assert reason is None and rule in flags, text
