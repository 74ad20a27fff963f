"""Unauthenticated endpoints: health and the API description."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from alpr_guard.api import openapi
from alpr_guard.api.context import public, session

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
@public
def healthz() -> tuple[Response, int]:
    session().execute(text("SELECT 1"))
    return jsonify({"status": "ok"}), 200


@bp.get("/api/v1/openapi.json")
@public
def openapi_json() -> Response:
    return jsonify(openapi.spec())
