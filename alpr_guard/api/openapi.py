"""The OpenAPI 3.1 document, generated from the routes' declarations (``api.contract.route``)
and their models' JSON Schemas (``api.models``): nothing here describes a field by hand."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from alpr_guard.api.contract import OPERATIONS, Operation
from alpr_guard.api.models import ErrorOut

REF = "#/components/schemas/{model}"
ERROR_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, bad, expired or revoked token",
    403: "Role or agency not allowed, or a policy refusal (see error.code)",
    404: "Not found",
    429: "Too many requests from this address (rate_limited); see Retry-After",
    409: "Conflict",
    422: "Invalid input (error.details.fields) or a policy refusal",
    502: "The identity provider could not be reached, or its answer did not verify",
    503: "Fail closed: the access record could not be written (audit_unavailable), or not ready",
}


def _models(operations: list[Operation]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(ErrorOut, "serialization"): None}
    for op in operations:
        if op.body is not None:
            wanted[(op.body, "validation")] = None
        for answer in op.responses.values():
            if not isinstance(answer, str):
                wanted[(answer, "serialization")] = None
    return list(wanted)


def _parameters(model: type[BaseModel] | None, where: Literal["query", "path"]) -> list[Any]:
    if model is None:
        return []
    schema = model.model_json_schema(mode="validation", ref_template=REF)
    required = set(schema.get("required", ()))
    out = []
    for name, declared in schema["properties"].items():
        prop = {k: v for k, v in declared.items() if k != "title"}
        description = prop.pop("description", None)
        param: dict[str, Any] = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": prop,
        }
        if description:
            param["description"] = description
        out.append(param)
    return out


def _error(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}},
    }
    if status == 503:
        answer["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before sending the same request again",
                "schema": {"type": "integer"},
            }
        }
    return answer


def _operation(op: Operation, refs: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": op.summary, "operationId": op.endpoint}
    if op.public:
        out["security"] = []
    else:
        out["x-roles"] = list(op.roles)
        if op.security is not None:
            out["security"] = [
                {scheme: list(scopes) for scheme, scopes in option.items()}
                for option in op.security
            ]
    parameters = _parameters(op.params, "path") + _parameters(op.query, "query")
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    if op.foreign_body:
        out["requestBody"] = {
            "required": True,
            "content": {
                media: {"schema": {"type": "object", "description": description}}
                for media, description in op.foreign_body.items()
            },
        }
    responses: dict[str, Any] = {}
    for status, answer in op.responses.items():
        if isinstance(answer, str):
            responses[str(status)] = {"description": answer}
        else:
            responses[str(status)] = {
                "description": (answer.__doc__ or answer.__name__).strip().splitlines()[0],
                "content": {"application/json": {"schema": refs[(answer, "serialization")]}},
            }
        if status in op.media:
            responses[str(status)]["content"] = {
                **responses[str(status)].get("content", {}),
                **{media: {} for media in op.media[status]},
            }
    for status in op.errors:
        responses[str(status)] = _error(status)
    out["responses"] = responses
    return out


def spec() -> dict[str, Any]:
    """The document (a fresh copy: callers may change theirs)."""
    return copy.deepcopy(_spec())


@cache
def _spec() -> dict[str, Any]:
    operations = sorted(OPERATIONS, key=lambda op: (op.path, op.method))
    refs, definitions = models_json_schema(_models(operations), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "alpr_guard",
            "version": "1",
            "description": "Encrypted ALPR storage with justified, recorded search. Generated "
            "from the request and response models that validate each route.",
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "camera": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A camera credential (alprc_..., alpr-guard cameras add)",
                },
                "cameraName": {"type": "apiKey", "in": "header", "name": "X-Alprg-Camera"},
                "cameraTime": {"type": "apiKey", "in": "header", "name": "X-Alprg-Timestamp"},
                "cameraSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Alprg-Signature",
                    "description": "Hex HMAC-SHA256 of '<X-Alprg-Timestamp>.<body>' under the "
                    "credential's secret (credentials added with --auth hmac)",
                },
            },
            "schemas": definitions.get("$defs", {}),
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
