"""The console's pages through the Flask test client: guards, links, CSRF, redaction, audit."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alpr_guard.models import AuditEvent, Finding
from alpr_guard.runtime import Runtime
from tests.conftest import auth
from tests.console.conftest import PLATES, add_findings, cookie_client

HUMAN = ("officer", "supervisor", "auditor", "admin")
LINK = re.compile(r'href="(/console/[^"?#]*)')
PAGES = (
    "/console/home",
    "/console/findings",
    "/console/access-report",
    "/console/chain",
    "/console/summary",
)


def events(rt: Runtime, kind: str) -> list[dict[str, object]]:
    with rt.sessions() as db:
        return [
            json.loads(d)
            for d in db.scalars(
                select(AuditEvent.details).where(AuditEvent.kind == kind).order_by(AuditEvent.seq)
            )
        ]


def open_ids(rt: Runtime) -> set[int]:
    with rt.sessions() as db:
        return set(db.scalars(select(Finding.id).where(Finding.status == "open")))


def assert_no_plate(text: str) -> None:
    for plate in PLATES:
        assert plate not in text, plate
        # nor spaced or hyphenated out
        assert plate.lower() not in text.lower()


def test_signed_out_gets_a_sign_in_page_not_data(
    client: FlaskClient, seeded: dict[str, str]
) -> None:
    for url in ("/console/", *PAGES, "/console/findings/1"):
        r = client.get(url)
        assert r.status_code == 401, url
        body = r.get_data(as_text=True)
        assert 'href="/auth/login"' in body
        assert "t-officer" not in body and "Findings</a>" not in body


def test_a_role_never_sees_a_link_it_cannot_use(
    client: FlaskClient, seeded: dict[str, str]
) -> None:
    seen_by_role: dict[str, set[str]] = {}
    for role in HUMAN:
        headers = auth(seeded[role])
        start = client.get("/console/", headers=headers)
        links: set[str] = set()
        if start.status_code == 302:
            first = client.get(start.headers["Location"], headers=headers)
            assert first.status_code == 200
            links = set(LINK.findall(first.get_data(as_text=True)))
        else:
            assert start.status_code == 403, role  # no page for this role
        for link in links - {"/console/console.css"}:
            assert client.get(link, headers=headers).status_code == 200, (role, link)
        for url in PAGES:
            status = client.get(url, headers=headers).status_code
            assert status in (200, 403), (role, url)
            if status == 403:
                assert url not in links, (role, url)
        seen_by_role[role] = links
    assert "/console/findings" in seen_by_role["auditor"]
    assert "/console/findings" not in seen_by_role["officer"]
    assert "/console/chain" not in seen_by_role["supervisor"]


def test_a_partner_auditor_sees_only_its_own_agencys_pages(
    client: FlaskClient, rt: Runtime, seeded: dict[str, str]
) -> None:
    """A partner agency's auditor may read its own agency's records, never the operator's:
    the home page and the chain (operator records) are neither linked nor open to it."""
    from alpr_guard.services.principals import add_user

    with rt.sessions.begin() as db:
        token = add_user(
            db, rt, username="partner-auditor", role="auditor", agency_ori="CA0190100"
        ).token
    headers = auth(token)
    start = client.get("/console/", headers=headers)
    assert start.status_code == 302 and start.headers["Location"].endswith("/console/findings")
    page = client.get("/console/findings", headers=headers).get_data(as_text=True)
    links = set(LINK.findall(page))
    assert "/console/home" not in links and "/console/chain" not in links
    # the operating agency's findings are not this auditor's
    assert "t-officer" not in page
    assert client.get("/console/findings/1", headers=headers).status_code == 404
    refused = client.get("/console/chain", headers=headers)
    assert refused.status_code == 403
    assert events(rt, "access.refused")[-1]["route"] == "/console/chain"


def test_csrf_is_enforced_on_every_form(app: Flask, rt: Runtime, seeded: dict[str, str]) -> None:
    browser, csrf = cookie_client(app, rt, seeded["auditor"])
    before = open_ids(rt)
    target = min(before)
    forms = [
        (f"/console/findings/{target}/resolve", {"verdict": "misuse", "note": "forged"}),
        ("/console/findings/resolve", {"finding": str(target), "verdict": "misuse", "note": "x"}),
        (
            "/console/access-report/full",
            {"reason": "a stated reason here", "from": "2026-11-01", "to": "2026-11-20"},
        ),
    ]
    for url, data in forms:
        for token in (None, "", "0" * 64, csrf[:-1] + ("0" if csrf[-1] != "0" else "1")):
            body = dict(data) if token is None else {**data, "csrf_token": token}
            r = browser.post(url, data=body)
            assert r.status_code == 403, (url, token)
            assert "csrf_failed" in r.get_data(as_text=True)
    assert open_ids(rt) == before
    assert events(rt, "report.access_full") == []
    assert len(events(rt, "csrf.refused")) == 12
    # another session's token is no good either
    _other, other_csrf = cookie_client(app, rt, seeded["auditor"])
    assert other_csrf != csrf
    r = browser.post(forms[0][0], data={**forms[0][1], "csrf_token": other_csrf})
    assert r.status_code == 403
    ok = browser.post(forms[0][0], data={**forms[0][1], "csrf_token": csrf})
    assert ok.status_code == 303
    assert target not in open_ids(rt)


def test_resolve_one_is_an_audit_event_with_the_note_masked(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    browser, csrf = cookie_client(app, rt, seeded["auditor"])
    target = min(open_ids(rt))
    r = browser.post(
        f"/console/findings/{target}/resolve",
        data={
            "verdict": "misuse",
            "note": f"Referred to IA; plate {PLATES[0]}",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 303
    resolved = events(rt, "review.finding_resolved")
    assert [e["finding_id"] for e in resolved] == [target]
    assert resolved[0]["verdict"] == "misuse"
    assert PLATES[0] not in json.dumps(resolved)
    page = browser.get(r.headers["Location"]).get_data(as_text=True)
    assert "Resolved and recorded" in page and "misuse" in page
    assert_no_plate(page)
    again = browser.post(
        f"/console/findings/{target}/resolve",
        data={"verdict": "justified", "note": "again", "csrf_token": csrf},
    )
    assert again.status_code == 409


def test_bulk_resolve_is_all_or_nothing(app: Flask, rt: Runtime, seeded: dict[str, str]) -> None:
    browser, csrf = cookie_client(app, rt, seeded["auditor"])
    ids = sorted(open_ids(rt))
    assert len(ids) >= 3
    browser.post(
        f"/console/findings/{ids[0]}/resolve",
        data={"verdict": "justified", "note": "first", "csrf_token": csrf},
    )
    # one already resolved in the batch: nothing else changes
    r = browser.post(
        "/console/findings/resolve",
        data={
            "finding": [str(i) for i in ids],
            "verdict": "misuse",
            "note": "batch",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 409
    assert open_ids(rt) == set(ids[1:])
    # an id that is not a number, an empty batch, a missing note: refused, nothing changes
    for data in (
        {"finding": ["1; DROP"], "verdict": "misuse", "note": "x"},
        {"verdict": "misuse", "note": "x"},
        {"finding": [str(ids[1])], "verdict": "misuse", "note": "  "},
        {"finding": [str(ids[1])], "verdict": "guilty", "note": "x"},
    ):
        bad = browser.post("/console/findings/resolve", data={**data, "csrf_token": csrf})
        assert bad.status_code == 422, data
    assert open_ids(rt) == set(ids[1:])
    r = browser.post(
        "/console/findings/resolve?severity=high",
        data={
            "finding": [str(i) for i in ids[1:]],
            "verdict": "misuse",
            "note": "batch",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 303 and "severity=high" in r.headers["Location"]
    assert open_ids(rt) == set()
    assert len(events(rt, "review.finding_resolved")) == len(ids)


def test_no_plate_on_any_redacted_page_or_download(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    browser, csrf = cookie_client(app, rt, seeded["auditor"])
    urls = [
        *PAGES,
        "/console/findings?status=resolved",
        "/console/access-report?from=2026-11-01&to=2026-11-20",
        "/console/access-report/download?format=csv&from=2026-11-01&to=2026-11-20",
        "/console/access-report/download?format=json&from=2026-11-01&to=2026-11-20",
        "/console/chain/verify",
    ]
    urls += [f"/console/findings/{i}" for i in sorted(open_ids(rt))]
    for url in urls:
        r = browser.get(url)
        assert r.status_code == 200, url
        assert_no_plate(r.get_data(as_text=True))
    verified = browser.post("/console/chain/verify", data={"csrf_token": csrf})
    assert verified.status_code == 200
    assert_no_plate(verified.get_data(as_text=True))
    report = browser.get("/console/access-report?from=2026-11-01&to=2026-11-20")
    assert "[plate]" in report.get_data(as_text=True)  # the typed plate, masked


def test_full_export_needs_a_reason_and_records_it(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    browser, csrf = cookie_client(app, rt, seeded["auditor"])
    period = {"from": "2026-11-01", "to": "2026-11-20", "csrf_token": csrf}
    for reason in ("", "short", "x" * 501):
        r = browser.post("/console/access-report/full", data={**period, "reason": reason})
        assert r.status_code == 422
        assert "reason" in r.get_data(as_text=True)
    assert events(rt, "report.access_full") == []
    r = browser.post(
        "/console/access-report/full",
        data={
            **period,
            "reason": f"Court order from the district attorney: {PLATES[1]}",
            "format": "csv",
        },
    )
    assert r.status_code == 200
    assert PLATES[0] in r.get_data(as_text=True)  # the full form does unmask
    recorded = events(rt, "report.access_full")
    assert len(recorded) == 1
    assert "Court order from the district attorney" in str(recorded[0]["reason"])
    assert PLATES[1] not in str(recorded[0]["reason"])


def test_each_page_is_an_audited_read(app: Flask, rt: Runtime, seeded: dict[str, str]) -> None:
    browser, _csrf = cookie_client(app, rt, seeded["auditor"])
    expected = {
        "/console/home": "console.attention_viewed",
        "/console/findings": "review.findings_listed",
        "/console/findings/1": "review.finding_viewed",
        "/console/access-report": "report.access",
        "/console/access-report/download?format=json": "report.access",
        "/console/chain": "audit.receipts_listed",
        "/console/summary?from=2026-11-01&to=2026-11-20": "report.summary",
    }
    for url, kind in expected.items():
        before = len(events(rt, kind))
        response = browser.get(url)
        response.get_data()  # a streamed page does its work as it is read
        assert response.status_code == 200, url
        assert len(events(rt, kind)) == before + 1, url
        with rt.sessions() as db:
            last = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(3)).all()
        assert any(e.kind == kind and e.actor == "t-auditor" for e in last), url


def all_events(rt: Runtime) -> int:
    with rt.sessions() as db:
        return db.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_a_chain_verification_needs_a_post_with_the_forms_token(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    """A link from another site reaches the auditor's browser with the (SameSite=Lax) cookie: a
    GET shows the form and runs or records nothing; a POST runs only with the session's token."""
    browser, csrf = cookie_client(app, rt, seeded["auditor"])
    before = all_events(rt)
    shown = browser.get("/console/chain/verify")
    body = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert 'method="post" action="/console/chain/verify"' in body
    assert f'name="csrf_token" value="{csrf}"' in body
    assert "not been verified yet" in body
    assert all_events(rt) == before  # no verification, no event of any kind
    refused = 0
    for token in (None, "", "0" * 64, csrf[:-1] + ("0" if csrf[-1] != "0" else "1")):
        r = browser.post(
            "/console/chain/verify", data={} if token is None else {"csrf_token": token}
        )
        r.get_data()
        assert r.status_code == 403, token
        assert r.headers["X-Error-Code"] == "csrf_failed"
        assert "csrf_failed" in r.get_data(as_text=True)
        refused += 1
    _other, other_csrf = cookie_client(app, rt, seeded["auditor"])
    r = browser.post("/console/chain/verify", data={"csrf_token": other_csrf})
    r.get_data()
    assert r.status_code == 403
    assert events(rt, "audit.verified") == []
    # the refusals are recorded as such (anonymously), nothing else
    assert len(events(rt, "csrf.refused")) == refused + 1
    ok = browser.post("/console/chain/verify", data={"csrf_token": csrf})
    text = ok.get_data(as_text=True)  # a streamed page does its work as it is read
    assert ok.status_code == 200 and "Verified." in text
    recorded = events(rt, "audit.verified")
    assert len(recorded) == 1 and recorded[0]["ok"] is True
    with rt.sessions() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.kind == "audit.verified")).one()
    assert event.actor == "t-auditor"
    # the form now shows that result, still without recording anything
    before = all_events(rt)
    again = browser.get("/console/chain/verify").get_data(as_text=True)
    assert f"audit event {event.seq}" in again and "Verified" in again
    assert all_events(rt) == before
    assert len(events(rt, "audit.verified")) == 1


def test_findings_pagination_says_where_you_are(
    client: FlaskClient, rt: Runtime, seeded: dict[str, str]
) -> None:
    add_findings(rt, 349)
    headers = auth(seeded["auditor"])
    with rt.sessions() as db:
        total = db.scalar(select(func.count()).select_from(Finding).where(Finding.status == "open"))
    assert total == 352
    page2 = client.get("/console/findings?page=2", headers=headers).get_data(as_text=True)
    assert "51–100 of 352" in page2
    assert 'rel="prev"' in page2 and 'rel="next"' in page2
    last = client.get("/console/findings?page=8", headers=headers).get_data(as_text=True)
    assert "351–352 of 352" in last and 'rel="next"' not in last
    beyond = client.get("/console/findings?page=9", headers=headers).get_data(as_text=True)
    assert "0–400 of 352" not in beyond and "No finding matches" in beyond
    for bad in ("0", "-1", "x", "99999999"):
        assert client.get(f"/console/findings?page={bad}", headers=headers).status_code == 422
    high = client.get("/console/findings?severity=high", headers=headers).get_data(as_text=True)
    assert re.search(r"1–\d+ of \d+", high)
    assert client.get("/console/findings?severity=urgent", headers=headers).status_code == 422
    assert client.get("/console/findings?from=yesterday", headers=headers).status_code == 422


FINDINGS_LINK = re.compile(r'(?:href|action)="([^"]*/console/findings[^"]*)"')


def test_findings_links_carry_only_the_filters_of_the_query(
    client: FlaskClient, rt: Runtime, seeded: dict[str, str]
) -> None:
    """The pager's and the bulk form's addresses are built with ``url_for`` from the query: a
    key of url_for's own (``_external``, ``_anchor``, ``_scheme``) or another unknown key sent
    in a link must not reach it, so the links are the same as without them."""
    add_findings(rt, 120, severity="high")
    headers = auth(seeded["auditor"])
    plain = "/console/findings?severity=high&order=oldest&page=2"

    def links(url: str) -> list[str]:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, url
        found = FINDINGS_LINK.findall(r.get_data(as_text=True))
        assert any("page=3" in link for link in found), url  # the pager is there
        assert any("/findings/resolve" in link for link in found), url  # and the bulk form
        return found

    expected = links(plain)
    assert all(link.startswith("/console/") for link in expected)
    for extra in (
        "_external=1&_anchor=x",
        "_external=1&_scheme=https&_anchor=x",
        "_scheme=javascript",
        "_method=POST",
        "endpoint=console.admin",
        "evil=1&resolved=7",
    ):
        assert links(f"{plain}&{extra}") == expected, extra


def test_signed_files_cannot_be_read_outside_the_checkpoint_directory(
    client: FlaskClient, seeded: dict[str, str]
) -> None:
    headers = auth(seeded["auditor"])
    for name in ("..%2Fmaster.key", "master.key", "checkpoint-head.json.bak", "%2Fetc%2Fpasswd"):
        assert client.get(f"/console/chain/files/{name}", headers=headers).status_code == 404


def test_summary_charts_count_what_is_stored(
    client: FlaskClient, rt: Runtime, seeded: dict[str, str]
) -> None:
    """Three reads observed a day before now (the fixture's): all in the 0-7 bucket; the
    page's chart says so, and findings raised today are on the findings-per-day chart."""
    from alpr_guard.services.reports import stored_reads_by_age

    with rt.sessions() as db:
        retained = dict(stored_reads_by_age(db, rt.clock.now()))
        later = dict(stored_reads_by_age(db, rt.clock.now() + timedelta(days=40)))
    assert retained["0-7"] == len(PLATES) and sum(retained.values()) == len(PLATES)
    assert later["31-60"] == len(PLATES)
    page = client.get(
        "/console/summary?from=2026-11-01&to=2026-11-20", headers=auth(seeded["auditor"])
    ).get_data(as_text=True)
    assert "Reads stored now by days since observed" in page
    assert "<title>2026-11-20: 3</title>" in page  # three findings raised on the 20th
