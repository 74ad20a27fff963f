"""One declaration per wire contract: a route's request and response models, declared with it.

A route is declared once, with ``route``::

    @route(bp, "POST", "/reads", "Ingest plate reads", body=ReadBatchIn,
           responses={201: IngestOut}, errors=(401, 403, 422, 503))
    @require("ingest", exposes=Exposure.READS_WRITE)
    def post_reads() -> ...: ...

``route`` goes above ``require`` (or ``public``), whose declaration of who may call the route
it reads into the document (``security``, ``x-roles``).
``route`` registers the view with Flask and records the operation; ``api.openapi`` builds the
OpenAPI document from those records and the models' JSON Schemas, and views validate their
input with ``validate`` (or ``salvage``) against the same models. So the document, the
validation and the error details cannot drift apart.

Models are pydantic v2, strict (no coercion: "1" is not a number) and ``extra="forbid"``.
Errors become the one error shape: ``details.fields`` maps a field path (``reads[3].plate``) to
a message. A message comes from the field's own rule (a validator raising ``Invalid``) or from
its declared ``Msg``; never from pydantic's text, and never the input: pydantic's error carries
the offending value (``input``), which may be a plate, and it is dropped here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError

from alpr_guard.api.context import ACCESS_ATTRIBUTE, RouteAccess
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)

# The error type of a field's own rule; its message is the rule's, written for the caller.
RULE = "alpr_guard_rule"


class Strict(BaseModel):
    """Base of every wire model: strict types, unknown fields refused, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ResponseModel(BaseModel):
    """Base of response models: what the service answers; documented, not parsed."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Msg:
    """A field's message for any failure that is not its own rule's (wrong type, a constraint):
    ``Annotated[str, Field(max_length=64), Msg("must be 1-64 printable characters")]``."""

    text: str


def invalid(message: str) -> PydanticCustomError:
    """The error a field's rule raises: ``message`` is what the caller reads."""
    return PydanticCustomError(RULE, message)


# Messages for pydantic's own error types on fields that declare no Msg.
_GENERIC = {
    "missing": "is required",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "uuid_type": "must be a uuid",
    "uuid_parsing": "must be a uuid",
    "literal_error": "is not one of the allowed values",
    "enum": "is not one of the allowed values",
}


def _message(model: type[BaseModel], loc: Sequence[int | str], kind: str, msg: str) -> str:
    if kind == RULE:
        return msg
    if kind == "extra_forbidden":
        return _GENERIC[kind]
    declared = _declared(model, loc)
    if declared is not None:
        return declared
    return _GENERIC.get(kind, "is not valid")


def _declared(model: type[BaseModel], loc: Sequence[int | str]) -> str | None:
    """The Msg of the field at ``loc`` (walking nested models and lists), if it declares one."""
    current: Any = model
    found: str | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return found
        info = fields[part]
        found = next((m.text for m in info.metadata if isinstance(m, Msg)), None)
        current = _inner_model(info.annotation)
    return found


def _inner_model(annotation: Any) -> Any:
    """The model inside ``X``, ``list[X]``, ``tuple[X, ...]`` or ``X | None``, else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    return None


def _path(loc: Sequence[int | str], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else part
    return out or "body"


def field_errors(model: type[BaseModel], exc: PydanticError, prefix: str = "") -> dict[str, str]:
    """pydantic's errors as ``{path: message}``: unknown fields first, then in field order;
    the first error of a path wins. ``input`` (the value) is never read."""
    out: dict[str, str] = {}
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    ordered = sorted(
        errors,
        key=lambda e: (
            e["type"] != "extra_forbidden",
            _path(e["loc"]) if e["type"] == "extra_forbidden" else "",
        ),
    )
    for error in ordered:
        loc = error["loc"]
        out.setdefault(_path(loc, prefix), _message(model, loc, error["type"], error["msg"]))
    return out


def validate(model: type[M], body: object) -> M:
    """``body`` (parsed JSON) as ``model``, or ValidationError naming each bad field."""
    if not isinstance(body, dict):
        raise ValidationError({"body": "must be a JSON object"})
    try:
        return model.model_validate(body)
    except PydanticError as exc:
        raise ValidationError(field_errors(model, exc)) from None


def query(model: type[M]) -> M:
    """This request's query string as ``model`` (first value of each parameter), or
    ValidationError naming each bad parameter; unknown ones, where the model refuses them, are
    "unknown query parameter"."""
    try:
        return model.model_validate(request.args.to_dict())
    except PydanticError as exc:
        fields = field_errors(model, exc)
    raise ValidationError(
        {k: "unknown query parameter" if v == "unknown field" else v for k, v in fields.items()}
    )


def salvage(model: type[BaseModel], body: object) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields of ``body`` that pass their own declaration (by field name), and the errors.

    For requests whose every attempt is recorded, a malformed one included: each field is
    validated alone against the model's declaration of it, so what could be parsed is kept."""
    if not isinstance(body, dict):
        return {}, {"body": "must be a JSON object"}
    try:
        whole = model.model_validate(body)
    except PydanticError as exc:
        errors = field_errors(model, exc)
    else:
        return {name: getattr(whole, name) for name in model.model_fields}, {}
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in body or body[key] is None:
            continue
        if any(p == key or p.startswith((f"{key}.", f"{key}[")) for p in errors):
            continue
        values[name] = _field_adapter(model, name).validate_python(body[key])
    return values, errors


@functools.cache
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    # A field with no constraint or rule has no metadata, and Annotated needs at least one.
    declared: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(declared, config=ConfigDict(strict=True))


# Routes, as declared: api.openapi builds the document from these.
@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI form: /api/v1/holds/{hold_id}
    summary: str
    endpoint: str  # the Flask endpoint, and the operationId
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    params: type[BaseModel] | None = None  # path parameters
    responses: Mapping[int, type[BaseModel] | str] = field(default_factory=dict)
    media: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # non-JSON bodies
    errors: tuple[int, ...] = ()
    public: bool = False
    roles: tuple[str, ...] = ()
    # A body in someone else's format (a camera vendor's), mapped by hand and not a strict
    # model: its media types and a description. Its quirks are declared in api.vendors.
    foreign_body: Mapping[str, str] = field(default_factory=dict)
    security: tuple[Mapping[str, tuple[str, ...]], ...] | None = None  # None: the default


OPERATIONS: list[Operation] = []
_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def route(
    bp: Blueprint,
    method: str,
    rule: str,
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    params: type[BaseModel] | None = None,
    responses: Mapping[int, type[BaseModel] | str],
    media: Mapping[int, tuple[str, ...]] | None = None,
    errors: tuple[int, ...] = (),
    foreign_body: Mapping[str, str] | None = None,
    security: tuple[Mapping[str, tuple[str, ...]], ...] | None = None,
) -> Callable[[F], F]:
    """Register the view on ``bp`` and declare its contract (see the module docstring). Put it
    above ``require`` or ``public``: who may call the route is read from their declaration."""

    def register(view: F) -> F:
        access = getattr(view, ACCESS_ATTRIBUTE, None)
        if not isinstance(access, RouteAccess):
            raise TypeError(f"{view.__name__}: declare require(...) or public below route(...)")
        bp.add_url_rule(rule, view_func=view, methods=[method])
        OPERATIONS.append(
            Operation(
                method=method.lower(),
                path=_CONVERTER.sub(r"{\1}", (bp.url_prefix or "") + rule),
                summary=summary,
                endpoint=f"{bp.name}.{view.__name__}",
                body=body,
                query=query,
                params=params,
                responses=dict(responses),
                media=dict(media or {}),
                errors=errors,
                public=access.exposes is Exposure.PUBLIC,
                roles=tuple(sorted(access.roles)),
                foreign_body=dict(foreign_body or {}),
                security=security,
            )
        )
        return view

    return register
