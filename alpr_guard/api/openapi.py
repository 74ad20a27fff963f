"""The OpenAPI 3.1 description of every endpoint (a test fails if a route is missing here)."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict[str, Any]:
    names = {
        400: "Bad request",
        401: "Missing, bad, expired or revoked token",
        403: "Role or agency not allowed, or a policy refusal (see error.code)",
        404: "Not found",
        409: "Conflict",
        422: "Invalid input (error.details.fields) or a policy refusal",
        429: "Too many requests from this address (rate_limited); see Retry-After",
        502: "The identity provider could not be reached, or its answer did not verify",
        503: "Fail closed: the access record could not be written (audit_unavailable)",
    }
    out: dict[str, Any] = {
        str(c): {"description": names[c], "content": {"application/json": {"schema": ERROR}}}
        for c in codes
    }
    if 503 in codes:
        out["503"]["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before sending the same request again",
                "schema": {"type": "integer"},
            }
        }
    return out


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


HOLD_ID = {
    "name": "hold_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
READ_IDS = {"type": "array", "items": {"type": "string", "format": "uuid"}}

READ_IN = {
    "type": "object",
    "additionalProperties": False,
    "required": ["plate", "observed_at", "camera_id"],
    "properties": {
        "plate": {
            "type": "string",
            "description": "Normalised: NFKC, spaces and dashes "
            "removed, upper case; then 1-10 letters or digits",
        },
        "observed_at": {
            "type": "string",
            "format": "date-time",
            "description": "With a timezone; stored as UTC",
        },
        "camera_id": {"type": "string", "maxLength": 64},
        "plate_state": {"type": "string", "pattern": "^[A-Za-z]{2,3}$"},
        "latitude": {"type": "number", "minimum": -90, "maximum": 90},
        "longitude": {"type": "number", "minimum": -180, "maximum": 180},
        "confidence": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "0-1, or 0-100 (values above 1 are percentages)",
        },
        "client_read_id": {
            "type": "string",
            "maxLength": 128,
            "description": "Idempotency key, unique per camera",
        },
        "hit": {
            "description": "The hot-list match, if any: the list and the entry matched (kept "
            "a year, so it must be named; stored sealed). false, null or absent: no match. "
            "A bare true is refused (422, reads[i].hit)",
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["list", "entry"],
                    "properties": {
                        "list": {
                            "type": "string",
                            "maxLength": 64,
                            "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$",
                        },
                        "entry": {
                            "type": "string",
                            "maxLength": 128,
                            "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$",
                        },
                    },
                },
                {"type": "boolean", "enum": [False]},
                {"type": "null"},
            ],
        },
    },
}

SEARCH_IN = {
    "type": "object",
    "additionalProperties": False,
    "required": ["plate", "from", "to", "purpose", "justification"],
    "properties": {
        "plate": {"type": "string"},
        "from": {"type": "string", "format": "date-time"},
        "to": {"type": "string", "format": "date-time", "description": "Exclusive"},
        "purpose": {"type": "string", "description": "A purpose code from the config"},
        "justification": {"type": "string", "maxLength": 2000},
        "case_number": {"type": "string", "maxLength": 64},
        "on_behalf_of": {
            "type": "string",
            "description": "ORI of the agency the search is run for; must pass the sharing rules",
        },
        "page_size": {"type": "integer", "minimum": 1},
        "cursor": {
            "type": "string",
            "description": "next_cursor of the previous page; every page is a recorded search",
        },
    },
}

READ_OUT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "plate": {"type": "string"},
        "plate_state": {"type": ["string", "null"]},
        "observed_at": {"type": "string", "format": "date-time"},
        "camera_id": {"type": "string"},
        "latitude": {"type": ["number", "null"]},
        "longitude": {"type": ["number", "null"]},
        "confidence": {"type": ["number", "null"]},
    },
}


def spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "alpr_guard",
            "version": "1",
            "description": "Encrypted ALPR storage with justified, recorded search.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "request_id"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "request_id": {"type": "string"},
                                "details": {"type": "object"},
                            },
                        }
                    },
                },
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {
                "get": {
                    "summary": "Liveness and database reachability",
                    "security": [],
                    "responses": {"200": {"description": "OK"}, **_errors(503)},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: database, schema revision, key store, checkpoint age",
                    "security": [],
                    "responses": {"200": {"description": "Ready"}, **_errors(503)},
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1"}},
                }
            },
            "/api/v1/reads": {
                "post": {
                    "summary": "Ingest up to max_batch plate reads (role ingest); all or nothing",
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["reads"],
                                "properties": {"reads": {"type": "array", "items": READ_IN}},
                            }
                        ),
                    },
                    "responses": {
                        "201": {
                            "description": "Stored",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "accepted": {"type": "integer"},
                                        "duplicates": {"type": "integer"},
                                        "ids": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            ),
                        },
                        **_errors(401, 403, 422, 503),
                    },
                }
            },
            "/api/v1/review/findings": {
                "get": {
                    "summary": "Access-review findings (role auditor); the listing is audited",
                    "parameters": [
                        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                        for n in (
                            "status",
                            "rule",
                            "severity",
                            "user",
                            "from",
                            "to",
                            "limit",
                            "offset",
                        )
                    ],
                    "responses": {
                        "200": {"description": "Findings, newest first"},
                        **_errors(401, 403, 422, 503),
                    },
                }
            },
            "/api/v1/review/findings/{finding_id}/resolve": {
                "post": {
                    "summary": "Resolve a finding with a verdict and a note (role auditor)",
                    "parameters": [
                        {
                            "name": "finding_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["verdict", "note"],
                                "properties": {
                                    "verdict": {"enum": ["justified", "misuse", "needs_follow_up"]},
                                    "note": {"type": "string", "maxLength": 4000},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": {"description": "Resolved; an audit event records it"},
                        **_errors(401, 403, 404, 409, 422, 503),
                    },
                }
            },
            "/api/v1/review/vague-rates": {
                "get": {
                    "summary": "Per-user or per-agency rate of vague justifications (auditor)",
                    "parameters": [
                        {
                            "name": n,
                            "in": "query",
                            "required": n != "by",
                            "schema": {"type": "string"},
                        }
                        for n in ("from", "to", "by")
                    ],
                    "responses": {
                        "200": {"description": "Rates, highest first"},
                        **_errors(401, 403, 422, 503),
                    },
                }
            },
            "/api/v1/shares": {
                "post": {
                    "summary": "Share reads (read_ids or search_id) with another agency "
                    "(role supervisor); refused unless the recipient is a vetted "
                    "in-state public agency. Allowed: a bundle signed with Ed25519",
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["recipient", "purpose", "justification"],
                                "properties": {
                                    "recipient": {"type": "string", "description": "ORI"},
                                    "read_ids": READ_IDS,
                                    "search_id": {"type": "string", "format": "uuid"},
                                    "purpose": {"type": "string"},
                                    "justification": {"type": "string"},
                                    "case_number": {"type": "string"},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "201": {"description": "Signed bundle: {share_id, bundle, signature}"},
                        **_errors(401, 403, 404, 422, 503),
                    },
                },
                "get": {
                    "summary": "Every share decision with its outcome (supervisor, auditor)",
                    "parameters": [
                        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                        for n in ("outcome", "limit")
                    ],
                    "responses": {
                        "200": {"description": "Share decisions, newest first"},
                        **_errors(401, 403, 422, 503),
                    },
                },
            },
            "/api/v1/holds": {
                "post": {
                    "summary": "Place a legal hold on reads (read_ids and/or an allowed "
                    "search's reads) (role supervisor). Pending until a second supervisor "
                    "approves when holds.require_second_approver is set",
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["case_number", "reason", "review_by"],
                                "properties": {
                                    "case_number": {"type": "string", "maxLength": 64},
                                    "reason": {"type": "string", "maxLength": 2000},
                                    "read_ids": READ_IDS,
                                    "search_id": {"type": "string", "format": "uuid"},
                                    "review_by": {"type": "string", "format": "date-time"},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "201": {"description": "The hold"},
                        **_errors(401, 403, 404, 422, 503),
                    },
                },
                "get": {
                    "summary": "The agency's holds (supervisor, auditor, admin); overdue=true "
                    "lists holds past their review-by date",
                    "parameters": [
                        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                        for n in ("status", "overdue")
                    ],
                    "responses": {
                        "200": {"description": "Holds, newest first"},
                        **_errors(401, 403, 422, 503),
                    },
                },
            },
            "/api/v1/holds/{hold_id}": {
                "get": {
                    "summary": "One hold (supervisor, auditor, admin)",
                    "parameters": [HOLD_ID],
                    "responses": {"200": {"description": "The hold"}, **_errors(401, 403, 404)},
                }
            },
            "/api/v1/holds/{hold_id}/approve": {
                "post": {
                    "summary": "Approve a pending hold (a different supervisor)",
                    "parameters": [HOLD_ID],
                    "responses": {
                        "200": {"description": "The hold, now active"},
                        **_errors(401, 403, 404, 409, 503),
                    },
                }
            },
            "/api/v1/holds/{hold_id}/release": {
                "post": {
                    "summary": "Release a hold with a reason (role supervisor); its reads "
                    "return to their retention class",
                    "parameters": [HOLD_ID],
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["reason"],
                                "properties": {"reason": {"type": "string"}},
                            }
                        ),
                    },
                    "responses": {
                        "200": {"description": "The hold, released"},
                        **_errors(401, 403, 404, 409, 422, 503),
                    },
                }
            },
            "/api/v1/purges": {
                "get": {
                    "summary": "Purge runs and their receipts: cutoff, reads deleted per "
                    "class, keys destroyed (auditor, admin)",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                        }
                    ],
                    "responses": {
                        "200": {"description": "Purge runs, newest first"},
                        **_errors(401, 403, 422),
                    },
                }
            },
            "/policy": {
                "get": {
                    "summary": "The published usage and privacy policy, from the config in force",
                    "security": [],
                    "parameters": [
                        {
                            "name": "format",
                            "in": "query",
                            "schema": {"enum": ["html", "md", "pdf"], "default": "html"},
                        }
                    ],
                    "responses": {
                        "200": {"description": "The policy, with its hash and effective date"},
                        "304": {"description": "Not modified (If-None-Match)"},
                        **_errors(404, 422),
                    },
                }
            },
            "/auth/login": {
                "get": {
                    "summary": "Start a sign-in at the identity provider (authorization code "
                    "with PKCE); 302 to the provider. 404 when [auth.oidc] is not configured",
                    "security": [],
                    "responses": {"302": {"description": "To the provider"}, **_errors(404, 429)},
                }
            },
            "/auth/callback": {
                "get": {
                    "summary": "The provider returns here; 303 to /auth/me with the session "
                    "cookie set, or a refusal (mfa_required, locked_source, ...) on the record",
                    "security": [],
                    "parameters": [
                        {"name": n, "in": "query", "schema": {"type": "string"}}
                        for n in ("state", "code", "error")
                    ],
                    "responses": {
                        "303": {"description": "Signed in"},
                        **_errors(400, 403, 404, 429, 502),
                    },
                }
            },
            "/auth/me": {
                "get": {
                    "summary": "Who is signed in: name, role, agency (HTML page or JSON); the "
                    "session's CSRF token for state-changing requests",
                    "responses": {"200": {"description": "The account"}, **_errors(401, 403)},
                }
            },
            "/auth/tokens": {
                "post": {
                    "summary": "Mint a short-lived personal API token from a signed-in session "
                    "(X-CSRF-Token); shown once",
                    "responses": {"201": {"description": "The token"}, **_errors(401, 403, 429)},
                }
            },
            "/auth/logout": {
                "post": {
                    "summary": "End the session now (X-CSRF-Token) and clear its cookie",
                    "responses": {"200": {"description": "Signed out"}, **_errors(401, 403, 429)},
                }
            },
            "/transparency": {
                "get": {
                    "summary": "Public transparency figures (HTML), aggregates only",
                    "security": [],
                    "responses": {
                        "200": {"description": "HTML page"},
                        "304": {"description": "Not modified (If-None-Match)"},
                    },
                }
            },
            "/transparency.json": {
                "get": {
                    "summary": "Public transparency figures (JSON), aggregates only",
                    "security": [],
                    "responses": {
                        "200": {"description": "The same figures as /transparency"},
                        "304": {"description": "Not modified (If-None-Match)"},
                    },
                }
            },
            "/api/v1/signing-key": {
                "get": {
                    "summary": "The instance's Ed25519 public key (verifies share bundles, "
                    "checkpoints and purge receipts)",
                    "security": [],
                    "responses": {"200": {"description": "{algorithm, key_id, public_key}"}},
                }
            },
            "/api/v1/audit/verify": {
                "get": {
                    "summary": "Verify the audit chain against the signed checkpoints (auditor); "
                    "names the first edited, deleted, reordered or truncated event, and each "
                    "access record edited, flipped, deleted or inserted",
                    "responses": {
                        "200": {
                            "description": "{ok, checked, last_seq, bad_seq, "
                            "problem, checkpoints_matched, last_checkpoint_seq, "
                            "events_after_checkpoint, checkpoint_dir_problems, "
                            "records_checked, record_damage, message}"
                        },
                        **_errors(401, 403, 503),
                    },
                }
            },
            "/api/v1/audit/access-report": {
                "get": {
                    "summary": "Access-justification report (role auditor; Civil Code "
                    "1798.90.52(a)): one row per search, allowed or refused; redacted unless "
                    "full=true; each pull is an audit event",
                    "parameters": [
                        {"name": n, "in": "query", "required": n in ("from", "to"), "schema": s}
                        for n, s in (
                            ("from", {"type": "string", "format": "date-time"}),
                            ("to", {"type": "string", "format": "date-time"}),
                            (
                                "format",
                                {
                                    "type": "string",
                                    "enum": ["csv", "json", "html"],
                                    "default": "json",
                                },
                            ),
                            ("user", {"type": "string"}),
                            ("agency", {"type": "string"}),
                            ("purpose", {"type": "string"}),
                            ("outcome", {"type": "string", "enum": ["allowed", "refused"]}),
                            (
                                "full",
                                {"type": "string", "enum": ["true", "false"], "default": "false"},
                            ),
                        )
                    ],
                    "responses": {
                        "200": {
                            "description": "Streamed; oldest first",
                            "content": {"text/csv": {}, "application/json": {}, "text/html": {}},
                        },
                        **_errors(401, 403, 422, 503),
                    },
                }
            },
            "/api/v1/audit/summary": {
                "get": {
                    "summary": "Compliance summary for [from, to) (role auditor); an audit event",
                    "parameters": [
                        {
                            "name": "from",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "format": "date-time"},
                        },
                        {
                            "name": "to",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "format": "date-time"},
                        },
                        {
                            "name": "format",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": ["json", "html"],
                                "default": "json",
                            },
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "Summary",
                            "content": {"application/json": {}, "text/html": {}},
                        },
                        **_errors(401, 403, 422, 503),
                    },
                }
            },
            "/api/v1/searches": {
                "post": {
                    "summary": "Justified search for one plate (roles officer, supervisor). "
                    "Screened before any data is touched; every search is recorded.",
                    "requestBody": {"required": True, **_json(SEARCH_IN)},
                    "responses": {
                        "200": {
                            "description": "Allowed; newest first",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "search_id": {"type": "string", "format": "uuid"},
                                        "result_count": {"type": "integer"},
                                        "results": {"type": "array", "items": READ_OUT},
                                        "next_cursor": {"type": ["string", "null"]},
                                    },
                                }
                            ),
                        },
                        **_errors(401, 403, 422, 503),
                    },
                }
            },
        },
    }
