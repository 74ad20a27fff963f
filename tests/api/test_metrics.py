"""GET /metrics: Prometheus text format, counts by route, status and reason code, the jobs'
figures from the database; never a plate, a user, an agency or a raw path in a label."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psutil
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from alpr_guard.clock import FixedClock
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.jobs.review import review_searches
from alpr_guard.runtime import Runtime
from tests.conftest import auth, read, search_body, write_config
from tests.servers import free_port, migrate_in_child

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _scrape(client: FlaskClient) -> tuple[str, Samples]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    body = response.get_data(as_text=True)
    return body, _samples(body)


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_ingest_searches_and_refusals_without_a_plate(
    client: FlaskClient, rt: Runtime, tokens: dict[str, str], clock: FixedClock
) -> None:
    _, before = _scrape(client)
    reads = [read("7ABC123", client_read_id="m1"), read("8XYZ999", client_read_id="m2")]
    ingest = auth(tokens["ingest"])
    assert client.post("/api/v1/reads", json={"reads": reads}, headers=ingest).status_code == 201
    assert (
        client.post("/api/v1/reads", json={"reads": reads[:1]}, headers=ingest).status_code == 201
    )
    officer = auth(tokens["officer"])
    assert client.post("/api/v1/searches", json=search_body(), headers=officer).status_code == 200
    refused = search_body(justification="ICE asked us to find this car")
    assert client.post("/api/v1/searches", json=refused, headers=officer).status_code == 403
    bad = search_body("7ABC123", purpose=None)
    assert client.post("/api/v1/searches", json=bad, headers=officer).status_code == 422
    # A hostile path, with a plate in it, must not become a label.
    assert client.get("/api/v1/holds/7ABC123PLATE").status_code in (401, 404)

    body, after = _scrape(client)
    for plate in ("7ABC123", "8XYZ999", "PLATE"):
        assert plate not in body
    for person in ("t-officer", "t-ingest", rt.settings.instance.operating_agency):
        assert person not in body

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("alpr_guard_reads_ingested_total", outcome="stored") == 2
    assert delta("alpr_guard_reads_ingested_total", outcome="replay") == 1
    searches = "/api/v1/searches"
    assert delta("alpr_guard_refusals_total", route=searches, reason="prohibited_purpose") == 1
    assert delta("alpr_guard_refusals_total", route=searches, reason="invalid_request") == 1
    assert delta("alpr_guard_http_requests_total", route=searches, method="POST", status="200") == 1
    assert delta("alpr_guard_http_request_duration_seconds_count", route=searches) == 3
    assert (
        delta("alpr_guard_http_requests_total", route="/api/v1/reads", method="POST", status="201")
        == 2
    )
    # The chain head: the events just written, with their age on the runtime's clock.
    assert _value(after, "alpr_guard_audit_chain_head_seq") > 0
    assert _value(after, "alpr_guard_audit_chain_head_age_seconds") == 0
    clock.advance(timedelta(seconds=90))
    _, later = _scrape(client)
    assert _value(later, "alpr_guard_audit_chain_head_age_seconds") == 90
    assert any(name == "alpr_guard_db_pool_checked_out" for name, _ in later)


def test_metrics_carry_the_newest_purge_and_review_runs(
    client: FlaskClient, rt: Runtime, tokens: dict[str, str], clock: FixedClock
) -> None:
    _, none_yet = _scrape(client)
    assert not any(name.startswith("alpr_guard_purge_") for name, _ in none_yet)
    assert not any(name.startswith("alpr_guard_review_") for name, _ in none_yet)
    officer = auth(tokens["officer"])
    assert client.post("/api/v1/searches", json=search_body(), headers=officer).status_code == 200
    clock.advance(timedelta(hours=1))  # past the review's settling time
    with rt.sessions() as session:
        review = review_searches(session, rt)
    assert review.searches_scanned == 1
    receipt = purge_expired(rt, trigger="test")
    clock.advance(timedelta(seconds=30))
    _, samples = _scrape(client)
    assert _value(samples, "alpr_guard_review_last_searches") == review.searches_scanned
    assert _value(samples, "alpr_guard_review_last_duration_seconds") == round(review.seconds, 3)
    assert _value(samples, "alpr_guard_review_last_age_seconds") == 30
    assert _value(samples, "alpr_guard_purge_last_deleted_reads") == sum(
        receipt.deleted_by_class.values()
    )
    assert _value(samples, "alpr_guard_purge_last_age_seconds") == 30


def _get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_a_scrape_of_the_served_api_sums_every_worker(tmp_path: Path) -> None:
    """Two gunicorn workers count into files; after both are killed and replaced, a scrape
    answered by a new worker (which served none of the earlier requests) still counts them."""
    config = write_config(tmp_path / "cfg", f"sqlite:///{tmp_path / 'alpr_guard.db'}")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    command = [sys.executable, "-m", "alpr_guard", "--config", str(config)]
    migrate_in_child(config)
    port = free_port()
    answered = uncertain = 0

    def healthy() -> bool:
        nonlocal answered, uncertain
        try:
            ok = _get(port, "/healthz")[0] == 200
        except TimeoutError:
            uncertain += 1  # sent, maybe answered and counted after the client gave up
            return False
        except OSError:
            return False  # refused: no worker saw it
        answered += ok
        return ok

    def wait_ready(server: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 60
        while not healthy():
            assert time.monotonic() < deadline and server.poll() is None
            time.sleep(0.1)

    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [*command, "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            wait_ready(server)
            for _ in range(20):
                assert healthy()
            first = {child.pid for child in psutil.Process(server.pid).children()}
            assert len(first) == 2
            for pid in first:
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while True:
                now = {c.pid for c in psutil.Process(server.pid).children()}
                if len(now) == 2 and not now & first:
                    break
                assert time.monotonic() < deadline
                time.sleep(0.1)
            wait_ready(server)
            status, body = _get(port, "/metrics")
            assert status == 200
            samples = _samples(body)
            key = (
                "alpr_guard_http_requests_total",
                (("method", "GET"), ("route", "/healthz"), ("status", "200")),
            )
            assert answered <= samples[key] <= answered + uncertain
            scraped_by = {
                dict(labels)["pid"] for name, labels in samples if name == "alpr_guard_db_pool_size"
            }
            assert scraped_by and not scraped_by & {str(pid) for pid in first}
        finally:
            server.terminate()
            server.wait(timeout=30)
