"""Configuration: one TOML file (plus the policy profile it names) into frozen dataclasses.

House rule 2: config fails closed. Unknown keys, wrong types, a missing section or an unreadable
key file stop the process with one line that names the file and the key. Secrets never live in
TOML: the file names another file or an environment variable that holds them.

A config file may name a policy ``profile`` (for example ``california.toml``): the profile holds
the jurisdiction's rules (purposes, prohibited purposes, retention windows and their legal
maxima, sharing rules, screening word lists) and the config file may override values key by key,
but never a ``max_*`` limit, which only the profile sets.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from alpr_guard.errors import ConfigError
from alpr_guard.policy.behaviour import BehaviourRules
from alpr_guard.policy.hit_rates import HitRateRules
from alpr_guard.policy.screening import Purpose
from alpr_guard.policy.second_opinion import SecondOpinion
from alpr_guard.policy.second_opinion import loads as load_model
from alpr_guard.policy.sharing import SharingRules
from alpr_guard.policy.text_rules import TextRules, load_text_rules
from alpr_guard.rules_apart import compile_apart

CONFIG_ENV = "ALPR_GUARD_CONFIG"
DEFAULT_CONFIG = Path("config/alpr_guard.toml")

AGENCY_KINDS = ("state", "local", "tribal", "federal", "private")
ORI_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{7}$")
STATE_RE = re.compile(r"^[A-Z]{2}$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")

T = TypeVar("T")


@dataclass(frozen=True)
class InstanceSettings:
    name: str
    operating_agency: str  # ORI of the agency that owns the reads stored here
    operating_agency_name: str


@dataclass(frozen=True)
class JurisdictionSettings:
    home_state: str
    name: str
    statute: str
    # The statute lists the permitted purposes: a deployment's config may not add one.
    closed_purposes: bool = False


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    audit_timeout_ms: int
    pool_size: int


@dataclass(frozen=True)
class KeySettings:
    master_key_file: Path | None
    master_key_env: str | None
    keystore_dir: Path


@dataclass(frozen=True)
class OidcSettings:
    """Sign-in at the agency's identity provider (docs/sign-in.md). The client secret is never
    here: the settings name the environment variable or file that holds it."""

    issuer: str  # its /.well-known/openid-configuration is read at the first sign-in
    client_id: str
    client_secret_env: str | None
    client_secret_file: Path | None
    redirect_uri: str  # https://<this server>/auth/callback, as registered at the provider
    scopes: tuple[str, ...]
    username_claim: str
    name_claim: str
    role_claim: str
    role_map: tuple[tuple[str, str], ...]  # (value of role_claim, role)
    agency_claim: str | None  # None: every user belongs to the operating agency
    agency_map: tuple[tuple[str, str], ...]  # (value of agency_claim, ORI); empty: the value is one
    require_mfa: bool
    mfa_amr: tuple[str, ...]  # any of these `amr` values makes a sign-in multi-factor
    mfa_acr: tuple[str, ...]  # so does an `acr` equal to one of these


# CJIS limits (AC-7, AC-11, IA-5): a deployment may tighten them, never loosen them.
MAX_SESSION_IDLE_MINUTES = 30
MAX_SESSION_ABSOLUTE_HOURS = 12
MAX_LOCKOUT_FAILURES = 5
MIN_LOCKOUT_WINDOW_MINUTES = 15


@dataclass(frozen=True)
class AuthSettings:
    human_token_hours: int
    # false (production): a bearer token of a human role is refused unless it was minted from
    # a signed-in (multi-factor) session; hand-issued tokens are then for machines only.
    human_bearer_tokens: bool = True
    session_idle_minutes: int = MAX_SESSION_IDLE_MINUTES
    session_absolute_hours: int = MAX_SESSION_ABSOLUTE_HOURS
    personal_token_minutes: int = 60  # tokens a signed-in user mints for scripts
    lockout_failures: int = MAX_LOCKOUT_FAILURES  # this many failures in the window lock
    lockout_window_minutes: int = MIN_LOCKOUT_WINDOW_MINUTES
    rate_limit: str = "30 per minute"  # sign-in requests per source address, all workers together
    # A person's account with no sign-in for this many days is disabled (with [auth.oidc]).
    dormant_days: int = 90
    oidc: OidcSettings | None = None


@dataclass(frozen=True)
class SearchSettings:
    max_window_days: int
    page_size: int
    max_page_size: int
    # The agency's own case-number format: matches stay readable in masked free text.
    case_number_pattern: str = r"[0-9]{2}-[0-9]{6}"


@dataclass(frozen=True)
class IngestSettings:
    max_batch: int
    max_future_skew_seconds: int
    # How long an ingest request waits for SQLite's single writer. Longer than a search waits
    # (database.audit_timeout_ms): a camera's batch queues behind other batches rather than fail.
    write_wait_ms: int = 10_000
    # A plate crop or vehicle image larger than this is refused (the read with it).
    max_image_bytes: int = 1_048_576
    # A camera credential that has posted nothing for this long is named in the compliance
    # summary (0: never).
    camera_silence_minutes: int = 60
    # How far a signed (HMAC) request's timestamp may be from the server's clock.
    signature_skew_seconds: int = 300


@dataclass(frozen=True)
class RetentionWindow:
    name: str
    days: int
    max_days: int


@dataclass(frozen=True)
class RetentionSettings:
    unmatched: RetentionWindow
    hit: RetentionWindow
    access_records: RetentionWindow
    audit_events: RetentionWindow

    def read_window(self, hit: bool) -> RetentionWindow:
        return self.hit if hit else self.unmatched


@dataclass(frozen=True)
class ReviewSettings:
    """The nightly access review (docs/access-review.md): when it runs and the behavioural rules."""

    schedule: str  # five-field cron expression, UTC
    behaviour: BehaviourRules
    hit_rate: HitRateRules = field(default_factory=HitRateRules)  # cameras' hot-list hit rates


@dataclass(frozen=True)
class AuditSettings:
    """Signed checkpoints of the audit chain, written outside the database."""

    checkpoint_dir: Path | None  # the first of checkpoint_dirs (older configs name only this)
    checkpoint_schedule: str  # five-field cron expression, UTC
    # Every directory gets every checkpoint and purge receipt; one may be a mounted remote.
    checkpoint_dirs: tuple[Path, ...] = ()
    # The chain head is signed this often while events are written, and at shutdown.
    checkpoint_interval_seconds: int = 60
    checkpoint_dirs_key: str = "audit.checkpoint_dirs"  # the key the directories came from

    def dir_key(self, index: int) -> str:
        """The config key naming directory ``index``, for error messages."""
        if self.checkpoint_dirs_key.endswith("_dirs"):
            return f"{self.checkpoint_dirs_key}[{index}]"
        return self.checkpoint_dirs_key


@dataclass(frozen=True)
class HoldSettings:
    """Legal holds: kept past their class's window until released."""

    require_second_approver: bool  # a hold stays pending until a different supervisor approves
    max_review_days: int  # the review-by date may be at most this far ahead


@dataclass(frozen=True)
class PurgeSettings:
    """The retention purge: when it runs and how it bounds its locks."""

    schedule: str  # five-field cron expression, UTC
    max_batch_ms: int  # no delete batch holds the SQLite writer longer than this
    lease_seconds: int  # a purge whose heartbeat is silent this long is presumed dead


@dataclass(frozen=True)
class AccessGrant:
    """A job title allowed access to the system, the role it gets and the training it needs."""

    job_title: str
    role: str
    training: tuple[str, ...]


@dataclass(frozen=True)
class PolicyElements:
    """What the published usage and privacy policy states that the engine does not enforce
    (Civil Code 1798.90.51(b), .53(b), .55(a)). Everything the engine enforces (purposes,
    retention, sharing, review) is rendered from its own settings, never restated here."""

    custodian_title: str
    access: tuple[AccessGrant, ...]
    accuracy_measures: tuple[str, ...]
    sharing_purposes: tuple[str, ...]
    public_comment_date: date
    public_comment_body: str
    camera_areas: tuple[tuple[str, tuple[str, ...]], ...]  # (area, camera ids), as published
    contact: str | None


class LazyRules:
    """The screening rules of a configuration, compiled once, on first use.

    Compiling the word lists takes a couple of seconds and tens of MB, and only searches and
    the review read them: a command that imports reads or adds a user need not pay for them.
    ``load_settings`` compiles them at once unless told not to, so ``config check``, the
    server and the scheduler still refuse a broken rules file before doing anything.
    """

    def __init__(self, table: Mapping[str, object], where: str) -> None:
        self._table = table
        self._where = where
        self._rules: TextRules | None = None
        self._lock = threading.Lock()

    def declares(self, code: str) -> bool:
        """Does the rules table define a rule with this code? (Without compiling it.)"""
        rules = self._table.get("rules")
        return isinstance(rules, Mapping) and code in rules

    def get(self) -> TextRules:
        if self._rules is None:
            with self._lock:
                if self._rules is None:
                    self._rules = load_text_rules(self._table, self._where)
        return self._rules

    def compile_apart(self) -> TextRules:
        """Compile now, in a child interpreter, and keep the compact result (see
        ``alpr_guard.rules_apart``): for the server and the scheduler, which live long and fork
        workers that inherit their memory. If the child fails, compile here, which raises the
        usual error for a broken rules file."""
        if self._rules is None:
            with self._lock:
                if self._rules is None:
                    self._rules = compile_apart(self._table, self._where) or load_text_rules(
                        self._table, self._where
                    )
        return self._rules


@dataclass(frozen=True)
class Settings:
    source: Path
    profile: Path | None
    instance: InstanceSettings
    jurisdiction: JurisdictionSettings
    database: DatabaseSettings
    keys: KeySettings
    auth: AuthSettings
    search: SearchSettings
    ingest: IngestSettings
    purposes: tuple[Purpose, ...]
    retention: RetentionSettings
    sharing: SharingRules
    rules: LazyRules = field(repr=False, compare=False)
    review: ReviewSettings
    audit: AuditSettings
    holds: HoldSettings
    purge: PurgeSettings
    policy_json: str  # the enforced policy sections, canonical JSON: recorded when it changes
    registry_file: Path | None  # agency registry (TOML or CSV) for `alpr-guard agencies import`
    policy: PolicyElements | None = None  # the published policy's own elements ([policy])
    # The statistical second opinion on texts the rules pass ([second_opinion]); None: off.
    second_opinion: SecondOpinion | None = None

    @property
    def screening(self) -> TextRules:
        """The compiled screening rules (compiled on first use; see ``LazyRules``)."""
        return self.rules.get()

    def purpose(self, code: str) -> Purpose | None:
        for purpose in self.purposes:
            if purpose.code == code:
                return purpose
        return None


class _Table:
    """Reads one TOML table, naming ``file: dotted.key`` in every error, refusing leftovers."""

    def __init__(self, data: Mapping[str, Any], path: str, where: str) -> None:
        self._data = dict(data)
        self._path = path
        self._where = where

    def _key(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def fail(self, key: str, why: str) -> ConfigError:
        return ConfigError(f"{self._where}: {self._key(key)}: {why}")

    def _take(self, key: str, kind: type[T], kind_name: str, default: T | None) -> T:
        if key not in self._data:
            if default is None:
                raise self.fail(key, "is required")
            return default
        value = self._data.pop(key)
        # bool is an int in Python; a TOML `true` must never pass as a number of days.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"must be {kind_name}, not {type(value).__name__}")
        return value

    def text(
        self,
        key: str,
        default: str | None = None,
        *,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> str:
        value = self._take(key, str, "a string", default).strip()
        if not value:
            raise self.fail(key, "must not be empty")
        if pattern is not None and not pattern.match(value):
            raise self.fail(key, f"must be {hint or 'of the form ' + pattern.pattern}")
        return value

    def opt_text(self, key: str) -> str | None:
        if key not in self._data:
            return None
        return self.text(key)

    def integer(self, key: str, default: int | None = None, *, lo: int = 0, hi: int = 10**9) -> int:
        value = self._take(key, int, "an integer", default)
        if not lo <= value <= hi:
            raise self.fail(key, f"must be between {lo} and {hi}")
        return value

    def number(
        self, key: str, default: float | None = None, *, lo: float = 0.0, hi: float = 1e9
    ) -> float:
        if key not in self._data:
            if default is None:
                raise self.fail(key, "is required")
            return default
        value = self._data.pop(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, not {type(value).__name__}")
        if not lo <= value <= hi:
            raise self.fail(key, f"must be between {lo:g} and {hi:g}")
        return float(value)

    def flag(self, key: str, default: bool | None = None) -> bool:
        return self._take(key, bool, "true or false", default)

    def texts(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        if key not in self._data:
            if default is None:
                raise self.fail(key, "is required")
            return default
        value = self._data.pop(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def table(self, key: str, *, required: bool = True) -> _Table:
        if key not in self._data:
            if required:
                raise self.fail(key, "section is missing")
            return _Table({}, self._key(key), self._where)
        value = self._data.pop(key)
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return _Table(value, self._key(key), self._where)

    def raw(self, key: str) -> dict[str, Any]:
        value = self._data.pop(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def names(self) -> list[str]:
        return list(self._data)

    def done(self) -> None:
        if self._data:
            unknown = sorted(self._data)
            if len(unknown) == 1:
                raise self.fail(unknown[0], "unknown key")
            raise ConfigError(
                f"{self._where}: unknown keys {', '.join(self._key(k) for k in unknown)}"
            )


def _merge(
    base: dict[str, Any], override: Mapping[str, Any], where: str, path: str = ""
) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        dotted = f"{path}.{key}" if path else key
        if key.startswith("max_") and key in base:
            raise ConfigError(
                f"{where}: {dotted}: is a legal limit set by the profile and cannot be overridden"
            )
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value, where, dotted)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except PermissionError:
        raise ConfigError(f"{path}: file is not readable") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _resolve(base: Path, value: str) -> Path:
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else (base / candidate).resolve()


def _has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "@" in url  # unparseable: refuse anything that could carry credentials
    return bool(parsed.password) or "password" in {k.lower() for k in parsed.query}


def _database_url(table: _Table, base: Path) -> str:
    url = table.opt_text("url")
    url_env = table.opt_text("url_env")
    if (url is None) == (url_env is None):
        raise table.fail("url", "set exactly one of url (no password) or url_env")
    if url_env is not None:
        url = os.environ.get(url_env, "").strip()
        if not url:
            raise table.fail("url_env", f"environment variable {url_env} is not set")
    assert url is not None
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            url = f"sqlite:///{_resolve(base, relative)}"
    elif url_env is None and _has_password(url):
        raise table.fail("url", "must not contain a password; use url_env")
    return url


def _retention(table: _Table) -> RetentionSettings:
    def window(name: str) -> RetentionWindow:
        sub = table.table(name)
        max_days = sub.integer("max_days", lo=1, hi=36500)
        days = sub.integer("days", lo=1, hi=36500)
        if days > max_days:
            raise sub.fail("days", f"{days} exceeds the profile's maximum of {max_days} days")
        sub.done()
        return RetentionWindow(name=name, days=days, max_days=max_days)

    result = RetentionSettings(
        unmatched=window("unmatched"),
        hit=window("hit"),
        access_records=window("access_records"),
        audit_events=window("audit_events"),
    )
    table.done()
    return result


def _purposes(table: _Table) -> tuple[Purpose, ...]:
    purposes = []
    for code in table.names():
        if not CODE_RE.match(code):
            raise table.fail(code, "purpose codes are lower_snake_case")
        sub = table.table(code)
        purposes.append(
            Purpose(
                code=code,
                description=sub.text("description"),
                prohibited=sub.flag("prohibited", False),
                statute=sub.text("statute", "-"),
            )
        )
        sub.done()
    if not any(not p.prohibited for p in purposes):
        raise table.fail("", "at least one permitted purpose is required")
    return tuple(purposes)


def _sharing(table: _Table) -> SharingRules:
    kinds = table.texts("allowed_kinds")
    for kind in kinds:
        if kind not in AGENCY_KINDS:
            raise table.fail("allowed_kinds", f"{kind!r} is not one of {', '.join(AGENCY_KINDS)}")
    result = SharingRules(
        allowed_kinds=kinds,
        home_state_only=table.flag("home_state_only"),
        require_vetted=table.flag("require_vetted", True),
        require_attestation=table.flag("require_attestation", False),
        allow_out_of_state_with_attestation=table.flag(
            "allow_out_of_state_with_attestation", False
        ),
    )
    if not result.require_vetted:
        raise table.fail("require_vetted", "must be true: unvetted recipients are never allowed")
    table.done()
    return result


def _keys(table: _Table, base: Path) -> KeySettings:
    for forbidden in ("master_key", "key", "secret"):
        if forbidden in table.names():
            raise table.fail(
                forbidden, "secrets never live in TOML; name a file or an environment variable"
            )
    master_file = table.opt_text("master_key_file")
    master_env = table.opt_text("master_key_env")
    if (master_file is None) == (master_env is None):
        raise table.fail(
            "master_key_file",
            "set exactly one of master_key_file or master_key_env "
            "(the key itself never goes in this file)",
        )
    result = KeySettings(
        master_key_file=_resolve(base, master_file) if master_file else None,
        master_key_env=master_env,
        keystore_dir=_resolve(base, table.text("keystore_dir")),
    )
    table.done()
    return result


CRON_FIELD_RE = re.compile(r"^[0-9*/,\-]+$")
SEVERITIES = ("high", "medium", "low")
BEHAVIOUR_RULES = ("repeated_target_no_case", "volume_spike", "off_hours")


def _review(table: _Table) -> ReviewSettings:
    schedule = table.text("schedule", "15 2 * * *")
    fields = schedule.split()
    if len(fields) != 5 or not all(CRON_FIELD_RE.match(f) for f in fields):
        raise table.fail("schedule", "must be a five-field cron expression (UTC)")
    severity_table = table.table("severity", required=False)
    severities = {}
    for rule in BEHAVIOUR_RULES:
        default = "low" if rule == "off_hours" else "medium"
        value = severity_table.text(rule, default)
        if value not in SEVERITIES:
            raise severity_table.fail(rule, f"must be one of {', '.join(SEVERITIES)}")
        severities[rule] = value
    hit_rate_severity = severity_table.text("hit_rate_anomaly", "medium")
    if hit_rate_severity not in SEVERITIES:
        raise severity_table.fail("hit_rate_anomaly", f"must be one of {', '.join(SEVERITIES)}")
    severity_table.done()
    hit_rate = HitRateRules(
        window_days=table.integer("hit_rate_window_days", 7, lo=1, hi=365),
        min_reads=table.integer("hit_rate_min_reads", 500, lo=1, hi=10**9),
        min_cameras=table.integer("hit_rate_min_cameras", 3, lo=1, hi=100_000),
        factor=table.number("hit_rate_factor", 5.0, lo=1.0, hi=1_000_000.0),
        min_rate=table.number("hit_rate_min_rate", 0.05, lo=0.0, hi=1.0),
        severity=hit_rate_severity,
    )
    rules = BehaviourRules(
        repeated_min_searches=table.integer("repeated_target_min_searches", 3, lo=2, hi=1000),
        repeated_window_days=table.integer("repeated_target_window_days", 28, lo=1, hi=365),
        spike_factor=table.number("volume_spike_factor", 3.0, lo=1.0, hi=1000.0),
        spike_min_searches=table.integer("volume_spike_min_searches", 25, lo=1, hi=100_000),
        spike_baseline_days=table.integer("volume_spike_baseline_days", 28, lo=1, hi=365),
        off_hours_min_history=table.integer("off_hours_min_history", 50, lo=1, hi=100_000),
        off_hours_max_share=table.number("off_hours_max_share", 0.01, lo=0.0, hi=1.0),
        severities=severities,
    )
    table.done()
    return ReviewSettings(schedule=schedule, behaviour=rules, hit_rate=hit_rate)


def _with_profile(data: dict[str, Any], source: Path) -> tuple[dict[str, Any], Path | None, str]:
    """Merge the profile the config names under it; the config may override, not loosen."""
    where = str(source)
    profile_name = data.pop("profile", None)
    if profile_name is None:
        return data, None, where
    if not isinstance(profile_name, str):
        raise ConfigError(f"{where}: profile: must be a string (a file name)")
    profile_path = _resolve(source.parent, profile_name)
    profile = _read_toml(profile_path)
    rules = profile.get("screening")
    if isinstance(rules, dict) and isinstance(rules.get("file"), str):
        # A profile's own file names are relative to the profile, wherever the config is.
        rules["file"] = str(_resolve(profile_path.parent, rules["file"]))
    second = profile.get("second_opinion")
    if isinstance(second, dict) and isinstance(second.get("model"), str):
        second["model"] = str(_resolve(profile_path.parent, second["model"]))
    _tighten_only(profile, data, where)
    return _merge(profile, data, where), profile_path, f"{where} (profile {profile_path.name})"


# Sharing switches a deployment may turn on (stricter) but never off, and the one it may turn off.
_STRICT_WHEN_TRUE = ("home_state_only", "require_vetted", "require_attestation")
_LOOSE_WHEN_TRUE = ("allow_out_of_state_with_attestation",)


def _tighten_only(profile: Mapping[str, Any], config: Mapping[str, Any], where: str) -> None:
    """A deployment's config may make the profile's law stricter, never looser.

    The profile encodes what the jurisdiction allows (California: in-state public agencies only;
    immigration enforcement prohibited); a config that re-allowed federal recipients or
    un-prohibited a purpose would quietly break the law it claims to enforce.
    """

    def refuse(key: str, why: str) -> ConfigError:
        return ConfigError(f"{where}: {key}: {why} (the profile only allows tightening)")

    for section in ("jurisdiction", "screening"):
        if section in config and section in profile:
            raise refuse(section, "is set by the profile")
    p_second, c_second = profile.get("second_opinion"), config.get("second_opinion")
    if isinstance(p_second, dict) and isinstance(c_second, dict):
        # A deployment may ask for more flags (a lower threshold), never fewer: a threshold
        # raised to 1 or another model would switch the second opinion off unseen.
        # Likewise it may have the model refuse from a lower probability, or at all when the
        # profile only flags, never from a higher one.
        for key in c_second:
            if key not in ("threshold", "refuse_from"):
                raise refuse(f"second_opinion.{key}", "is set by the profile")
        for key in ("threshold", "refuse_from"):
            mine, theirs = c_second.get(key), p_second.get(key)
            if isinstance(mine, int | float) and isinstance(theirs, int | float) and mine > theirs:
                raise refuse(f"second_opinion.{key}", f"may only be lowered (at most {theirs})")
    p_sharing, c_sharing = profile.get("sharing", {}), config.get("sharing", {})
    if isinstance(p_sharing, dict) and isinstance(c_sharing, dict):
        kinds = c_sharing.get("allowed_kinds")
        if isinstance(kinds, list) and not set(kinds) <= set(p_sharing.get("allowed_kinds", [])):
            raise refuse("sharing.allowed_kinds", "may only remove kinds the profile allows")
        for key in _STRICT_WHEN_TRUE:
            if p_sharing.get(key) is True and c_sharing.get(key) is False:
                raise refuse(f"sharing.{key}", "cannot be switched off")
        for key in _LOOSE_WHEN_TRUE:
            if p_sharing.get(key) is False and c_sharing.get(key) is True:
                raise refuse(f"sharing.{key}", "cannot be switched on")
    p_purposes, c_purposes = profile.get("purposes", {}), config.get("purposes", {})
    jurisdiction = profile.get("jurisdiction", {})
    closed = isinstance(jurisdiction, dict) and jurisdiction.get("closed_purposes") is True
    if isinstance(p_purposes, dict) and isinstance(c_purposes, dict):
        for code, body in c_purposes.items():
            prohibits = isinstance(body, dict) and body.get("prohibited") is True
            if closed and code not in p_purposes and not prohibits:
                # Where the statute lists the uses, a new permitted purpose widens the law; a
                # new prohibited one only narrows it.
                raise refuse(
                    f"purposes.{code}",
                    "the statute lists the permitted purposes; a deployment may not add one",
                )
            base = p_purposes.get(code)
            if (
                isinstance(base, dict)
                and base.get("prohibited") is True
                and isinstance(body, dict)
                and body.get("prohibited") is False
            ):
                raise refuse(f"purposes.{code}.prohibited", "a prohibited purpose stays prohibited")


def _screening(root: _Table, base: Path, where: str) -> LazyRules:
    if "screening" not in root.names():
        raise root.fail("screening", "section is missing")
    table = root.raw("screening")
    rules_where = f"{where}: screening"
    rules_file = table.pop("file", None)
    if rules_file is not None:
        # The word lists are long and shared between profiles: they may live in their own file.
        if not isinstance(rules_file, str) or table:
            raise ConfigError(
                f"{where}: screening.file: must be the only key of [screening], "
                "naming a TOML file of screening rules"
            )
        rules_path = _resolve(base, rules_file)
        table = _read_toml(rules_path)
        rules_where = str(rules_path)
    return LazyRules(table, rules_where)


def _second_opinion(root: _Table, base: Path, screening: LazyRules | None) -> SecondOpinion | None:
    """``[second_opinion]``: the model file, the probability from which a text the rules pass
    is flagged and the one (optional) from which it is refused, and the rule and severity the
    flag or refusal carries. Absent: no second opinion."""
    if "second_opinion" not in root.names():
        return None
    table = root.table("second_opinion")
    name = table.text("model")
    threshold = table.number("threshold", lo=0.5, hi=1.0)
    refuse_from = None
    if "refuse_from" in table.names():
        refuse_from = table.number("refuse_from", lo=0.5, hi=1.0)
    if refuse_from is not None and refuse_from < threshold:
        # A text refused is one the flag would have caught too: the refusal is the stronger
        # answer to the same opinion, never a second one below it.
        raise table.fail("refuse_from", f"must be at least the threshold ({threshold:g})")
    rule = table.text("rule", "prohibited_purpose")
    severity = table.text("severity", "medium")
    table.done()
    if severity not in SEVERITIES:
        raise table.fail("severity", f"must be one of {', '.join(SEVERITIES)}")
    if screening is not None and not screening.declares(rule):
        raise table.fail("rule", f"must be a rule of the screening rules, not {rule!r}")
    path = _resolve(base, name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise table.fail("model", f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise table.fail("model", f"{path}: cannot be read ({exc})") from None
    try:
        model = load_model(text)
    except ValueError as exc:
        raise table.fail("model", f"{path}: {exc}") from None
    return SecondOpinion(model, threshold, rule, severity, refuse_from)


def _identity(root: _Table) -> tuple[InstanceSettings, JurisdictionSettings]:
    inst = root.table("instance")
    instance = InstanceSettings(
        name=inst.text("name"),
        operating_agency=inst.text(
            "operating_agency", pattern=ORI_RE, hint="a 9-character ORI such as CA0190000"
        ),
        operating_agency_name=inst.text("operating_agency_name"),
    )
    inst.done()
    jur = root.table("jurisdiction")
    jurisdiction = JurisdictionSettings(
        home_state=jur.text("home_state", pattern=STATE_RE, hint="a two-letter state code"),
        name=jur.text("name"),
        statute=jur.text("statute"),
        closed_purposes=jur.flag("closed_purposes", False),
    )
    jur.done()
    return instance, jurisdiction


def _database(table: _Table, base: Path) -> DatabaseSettings:
    result = DatabaseSettings(
        url=_database_url(table, base),
        audit_timeout_ms=table.integer("audit_timeout_ms", 2000, lo=50, hi=60_000),
        pool_size=table.integer("pool_size", 10, lo=1, hi=200),
    )
    table.done()
    return result


def _limits(root: _Table, base: Path) -> tuple[AuthSettings, SearchSettings, IngestSettings]:
    auth = _auth(root.table("auth"), base)
    s = root.table("search")
    search = SearchSettings(
        max_window_days=s.integer("max_window_days", 31, lo=1, hi=3660),
        page_size=s.integer("page_size", 100, lo=1, hi=10_000),
        max_page_size=s.integer("max_page_size", 1000, lo=1, hi=10_000),
        case_number_pattern=s.text("case_number_pattern", r"[0-9]{2}-[0-9]{6}"),
    )
    if search.page_size > search.max_page_size:
        raise s.fail("page_size", "must not exceed max_page_size")
    try:
        re.compile(search.case_number_pattern)
    except re.error:
        raise s.fail("case_number_pattern", "must be a regular expression") from None
    s.done()
    i = root.table("ingest")
    ingest = IngestSettings(
        max_batch=i.integer("max_batch", 1000, lo=1, hi=10_000),
        max_future_skew_seconds=i.integer("max_future_skew_seconds", 300, lo=0, hi=86_400),
        write_wait_ms=i.integer("write_wait_ms", 10_000, lo=50, hi=120_000),
        max_image_bytes=i.integer("max_image_bytes", 1_048_576, lo=1024, hi=3_000_000),
        camera_silence_minutes=i.integer("camera_silence_minutes", 60, lo=0, hi=525_600),
        signature_skew_seconds=i.integer("signature_skew_seconds", 300, lo=5, hi=3600),
    )
    i.done()
    return auth, search, ingest


RATE_RE = re.compile(r"^[1-9][0-9]{0,5} per (second|minute|hour)$")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SECRET_KEYS = ("client_secret", "secret", "password")
HUMAN_ROLES = ("officer", "supervisor", "auditor", "admin")


def _auth(table: _Table, base: Path) -> AuthSettings:
    oidc_table = table.table("oidc") if "oidc" in table.names() else None
    result = AuthSettings(
        human_token_hours=table.integer("human_token_hours", 12, lo=1, hi=168),
        human_bearer_tokens=table.flag("human_bearer_tokens", True),
        session_idle_minutes=table.integer(
            "session_idle_minutes", MAX_SESSION_IDLE_MINUTES, lo=1, hi=MAX_SESSION_IDLE_MINUTES
        ),
        session_absolute_hours=table.integer(
            "session_absolute_hours",
            MAX_SESSION_ABSOLUTE_HOURS,
            lo=1,
            hi=MAX_SESSION_ABSOLUTE_HOURS,
        ),
        personal_token_minutes=table.integer("personal_token_minutes", 60, lo=5, hi=12 * 60),
        lockout_failures=table.integer(
            "lockout_failures", MAX_LOCKOUT_FAILURES, lo=1, hi=MAX_LOCKOUT_FAILURES
        ),
        lockout_window_minutes=table.integer(
            "lockout_window_minutes",
            MIN_LOCKOUT_WINDOW_MINUTES,
            lo=MIN_LOCKOUT_WINDOW_MINUTES,
            hi=24 * 60,
        ),
        rate_limit=table.text(
            "rate_limit", "30 per minute", pattern=RATE_RE, hint="like '30 per minute'"
        ),
        dormant_days=table.integer("dormant_days", 90, lo=1, hi=90),
        oidc=_oidc(oidc_table, base) if oidc_table is not None else None,
    )
    table.done()
    return result


def _url(table: _Table, key: str) -> str:
    """An https URL, or http on a loopback address (a provider or a server on this machine).
    Kept exactly as written: an issuer must match its discovery document character for
    character, trailing slash included."""
    from urllib.parse import urlsplit

    value = table.text(key)
    parts = urlsplit(value)
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return value
    if parts.scheme != "https" or not parts.hostname:
        raise table.fail(key, "must be an https URL (http only on a loopback address)")
    if parts.query or parts.fragment:
        raise table.fail(key, "must not have a query or a fragment")
    return value


def _claim_map(
    table: _Table, key: str, allowed: tuple[str, ...] | None
) -> tuple[tuple[str, str], ...]:
    sub = table.table(key, required=False)
    pairs = []
    for value in sub.names():
        target = sub.text(value)
        if allowed is not None and target not in allowed:
            raise sub.fail(value, f"must be one of {', '.join(allowed)}")
        if allowed is None and not ORI_RE.match(target):
            raise sub.fail(value, "must be a 9-character ORI such as CA0190000")
        pairs.append((value, target))
    sub.done()
    return tuple(pairs)


def _oidc(table: _Table, base: Path) -> OidcSettings:
    for forbidden in SECRET_KEYS:
        if forbidden in table.names():
            raise table.fail(
                forbidden,
                "secrets never live in TOML; set client_secret_env or client_secret_file",
            )
    secret_env = table.opt_text("client_secret_env")
    secret_file = table.opt_text("client_secret_file")
    if (secret_env is None) == (secret_file is None):
        raise table.fail(
            "client_secret_env", "set exactly one of client_secret_env or client_secret_file"
        )
    secret_path = _resolve(base, secret_file) if secret_file is not None else None
    if secret_env is not None and not os.environ.get(secret_env, "").strip():
        raise table.fail("client_secret_env", f"environment variable {secret_env} is not set")
    if secret_path is not None and not secret_path.is_file():
        raise table.fail("client_secret_file", f"{secret_path} is not a readable file")
    role_map = _claim_map(table, "roles", HUMAN_ROLES)
    if not role_map:
        raise table.fail("roles", "map at least one value of role_claim to a role")
    scopes = table.texts("scopes", ("openid", "profile", "email"))
    if "openid" not in scopes:
        raise table.fail("scopes", "must include openid")
    mfa_amr = table.texts("mfa_amr", ("mfa", "otp", "hwk", "swk", "fido", "sc"))
    mfa_acr = table.texts("mfa_acr", ())
    require_mfa = table.flag("require_mfa", True)
    if require_mfa and not (mfa_amr or mfa_acr):
        raise table.fail("mfa_amr", "name the amr (or acr) values that count as multi-factor")
    result = OidcSettings(
        issuer=_url(table, "issuer"),
        client_id=table.text("client_id"),
        client_secret_env=secret_env,
        client_secret_file=secret_path,
        redirect_uri=_url(table, "redirect_uri"),
        scopes=scopes,
        username_claim=table.text("username_claim", "preferred_username"),
        name_claim=table.text("name_claim", "name"),
        role_claim=table.text("role_claim", "groups"),
        role_map=role_map,
        agency_claim=table.opt_text("agency_claim"),
        agency_map=_claim_map(table, "agencies", None),
        require_mfa=require_mfa,
        mfa_amr=mfa_amr,
        mfa_acr=mfa_acr,
    )
    if result.agency_map and result.agency_claim is None:
        raise table.fail("agencies", "needs agency_claim (the claim whose values it maps)")
    table.done()
    return result


POLICY_SECTIONS = (
    "jurisdiction",
    "purposes",
    "retention",
    "holds",
    "sharing",
    "screening",
    "second_opinion",
    "review",
)


def _policy_json(data: Mapping[str, Any], base: Path) -> str:
    """What the engine enforces, as canonical JSON, so a change can be hashed and diffed."""
    import json

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value if isinstance(value, str | int | float | bool) or value is None else str(value)

    policy = {k: plain(data[k]) for k in POLICY_SECTIONS if k in data}
    screening = policy.get("screening")
    if isinstance(screening, dict) and isinstance(screening.get("file"), str):
        policy["screening"] = _read_toml(_resolve(base, screening["file"]))
    second = policy.get("second_opinion")
    if isinstance(second, dict) and isinstance(second.get("model"), str):
        # The model's weights are what is enforced, not its file name: a retrained or edited
        # model is a policy change like an edited word list.
        try:
            digest = hashlib.sha256(_resolve(base, second["model"]).read_bytes()).hexdigest()
        except OSError:
            digest = None  # reported by _second_opinion, with the key to fix
        second["model_sha256"] = digest
    return json.dumps(plain(policy), sort_keys=True, separators=(",", ":"))


def _audit(table: _Table, base: Path) -> AuditSettings:
    # `checkpoint_dir` (one directory) is the older spelling of a one-item `checkpoint_dirs`.
    directory = table.opt_text("checkpoint_dir")
    names = table.texts("checkpoint_dirs", ())
    key = "audit.checkpoint_dirs"
    if directory is not None:
        if names:
            raise table.fail("checkpoint_dirs", "set either checkpoint_dir or checkpoint_dirs")
        names, key = (directory,), "audit.checkpoint_dir"
    elif any(not n.strip() for n in names):
        raise table.fail("checkpoint_dirs", "must not contain an empty name")
    dirs = tuple(_resolve(base, n.strip()) for n in names)
    if len(set(dirs)) != len(dirs):
        raise table.fail("checkpoint_dirs", "names the same directory twice")
    schedule = table.text("checkpoint_schedule", "0 * * * *")
    fields = schedule.split()
    if len(fields) != 5 or not all(CRON_FIELD_RE.match(f) for f in fields):
        raise table.fail("checkpoint_schedule", "must be a five-field cron expression (UTC)")
    interval = table.integer("checkpoint_interval_seconds", 60, lo=1, hi=3600)
    table.done()
    return AuditSettings(
        checkpoint_dir=dirs[0] if dirs else None,
        checkpoint_schedule=schedule,
        checkpoint_dirs=dirs,
        checkpoint_interval_seconds=interval,
        checkpoint_dirs_key=key,
    )


def _cron(table: _Table, key: str, default: str) -> str:
    value = table.text(key, default)
    fields = value.split()
    if len(fields) != 5 or not all(CRON_FIELD_RE.match(f) for f in fields):
        raise table.fail(key, "must be a five-field cron expression (UTC)")
    return value


def _holds(table: _Table) -> HoldSettings:
    result = HoldSettings(
        require_second_approver=table.flag("require_second_approver", False),
        max_review_days=table.integer("max_review_days", 365, lo=1, hi=3660),
    )
    table.done()
    return result


def _purge(table: _Table) -> PurgeSettings:
    result = PurgeSettings(
        schedule=_cron(table, "schedule", "30 3 * * *"),
        max_batch_ms=table.integer("max_batch_ms", 250, lo=10, hi=10_000),
        lease_seconds=table.integer("lease_seconds", 60, lo=10, hi=86_400),
    )
    table.done()
    return result


POLICY_ROLES = ("officer", "supervisor", "auditor", "admin")


def _policy(table: _Table) -> PolicyElements:
    """The published policy's own elements; validated like every other section."""
    access: list[AccessGrant] = []
    grants = table._data.pop("access", None)
    if not isinstance(grants, list) or not grants:
        raise table.fail("access", "must be one or more [[policy.access]] tables")
    for n, raw in enumerate(grants):
        if not isinstance(raw, dict):
            raise table.fail(f"access[{n}]", "must be a table")
        sub = _Table(raw, f"{table._key('access')}[{n}]", table._where)
        role = sub.text("role")
        if role not in POLICY_ROLES:
            raise sub.fail("role", f"must be one of {', '.join(POLICY_ROLES)}")
        grant = AccessGrant(sub.text("job_title"), role, _nonempty(sub, "training"))
        sub.done()
        access.append(grant)
    for role in POLICY_ROLES:
        if not any(g.role == role for g in access):
            raise table.fail("access", f"no job title is given the {role} role")
    comment = table.table("public_comment")
    held_on = comment._take("date", date, "a date (YYYY-MM-DD)", None)
    if isinstance(held_on, datetime):
        raise comment.fail("date", "must be a date (YYYY-MM-DD), not a date and time")
    body = comment.text("body")
    comment.done()
    areas_table = table.table("camera_areas", required=False)
    areas = tuple((area, _nonempty(areas_table, area)) for area in areas_table.names())
    areas_table.done()
    seen: dict[str, str] = {}
    for area, cameras in areas:
        for camera in cameras:
            if camera in seen:
                raise table.fail(f"camera_areas.{area}", f"a camera is also in {seen[camera]!r}")
            seen[camera] = area
    result = PolicyElements(
        custodian_title=table.text("custodian_title"),
        access=tuple(access),
        accuracy_measures=_nonempty(table, "accuracy_measures"),
        sharing_purposes=_nonempty(table, "sharing_purposes"),
        public_comment_date=held_on,
        public_comment_body=body,
        camera_areas=areas,
        contact=table.opt_text("contact"),
    )
    table.done()
    return result


def _nonempty(table: _Table, key: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in table.texts(key))
    if not values or not all(values):
        raise table.fail(key, "must be a non-empty list of non-empty strings")
    return values


def _with_enforced(policy_json: str, resolved: Mapping[str, Any]) -> str:
    """Add the values in force, defaults included, so that every enforced value is hashed and a
    change to any of them (a raised search window, a longer token lifetime) is a policy change
    with a readable from/to diff, whether or not the file spelled the old value out."""
    import json
    from dataclasses import asdict

    policy = json.loads(policy_json)
    policy["enforced"] = {
        key: asdict(value) if value is not None else None for key, value in resolved.items()
    }
    return json.dumps(policy, sort_keys=True, separators=(",", ":"), default=str)


def load_settings(path: Path | str | None = None, *, compile_screening: bool = True) -> Settings:
    """Load and validate the configuration; raise ConfigError naming the file and the key.

    ``compile_screening=False`` leaves the screening word lists to be compiled (and checked)
    when first used: for commands that never screen a search.
    """
    return _load(path, None, compile_screening)


def config_faults(path: Path | str | None = None) -> tuple[Settings | None, list[ConfigError]]:
    """Every fault of the configuration in one pass, section by section (``config check``):
    a section with a fault still stops at its first one, but the other sections are read."""
    faults: list[ConfigError] = []
    try:
        settings: Settings | None = _load(path, faults)
    except ConfigError as exc:
        faults.append(exc)
        settings = None
    unique: dict[str, ConfigError] = {}
    for fault in faults:  # a missing rules file is found by two sections: say it once
        unique.setdefault(fault.message, fault)
    return settings, list(unique.values())


def _section(faults: list[ConfigError] | None, parse: Any, *args: Any) -> Any:
    if faults is None:
        return parse(*args)
    try:
        return parse(*args)
    except ConfigError as exc:
        faults.append(exc)
        return None


def _load(
    path: Path | str | None, faults: list[ConfigError] | None, compile_screening: bool = True
) -> Settings:
    if path is None:
        path = os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    source = Path(path).resolve()
    base = source.parent
    data, profile_path, where = _with_profile(_read_toml(source), source)
    policy_json = _section(faults, _policy_json, data, base)
    root = _Table(data, "", where)

    identity = _section(faults, _identity, root)
    database = _section(faults, lambda: _database(root.table("database"), base))
    keys = _section(faults, lambda: _keys(root.table("keys"), base))
    limits = _section(faults, _limits, root, base)
    purposes = _section(faults, lambda: _purposes(root.table("purposes")))
    retention = _section(faults, lambda: _retention(root.table("retention")))
    sharing = _section(faults, lambda: _sharing(root.table("sharing")))
    screening = _section(faults, _screening, root, base, where)
    if compile_screening and screening is not None:
        _section(faults, screening.get)
    second_opinion = _section(faults, _second_opinion, root, base, screening)
    review = _section(faults, lambda: _review(root.table("review")))
    audit = _section(faults, lambda: _audit(root.table("audit", required=False), base))
    holds = _section(faults, lambda: _holds(root.table("holds", required=False)))
    purge = _section(faults, lambda: _purge(root.table("purge", required=False)))

    def _registry() -> str | None:
        registry = root.table("registry", required=False)
        name = registry.opt_text("file")
        registry.done()
        return name

    registry_name = _section(faults, _registry)
    policy = _section(
        faults, lambda: _policy(root.table("policy")) if "policy" in root.names() else None
    )
    if not faults:  # after a fault, a section's unread keys would show as unknown
        _section(faults, root.done)
    if faults:
        raise faults[0]
    instance, jurisdiction = identity
    auth, search, ingest = limits
    policy_json = _with_enforced(
        policy_json,
        {
            "auth": auth,
            "search": search,
            "ingest": ingest,
            "retention": retention,
            "sharing": sharing,
            "review": review,
            "holds": holds,
            "purge": purge,
            "policy": policy,
        },
    )

    return Settings(
        source=source,
        profile=profile_path,
        instance=instance,
        jurisdiction=jurisdiction,
        database=database,
        keys=keys,
        auth=auth,
        search=search,
        ingest=ingest,
        purposes=purposes,
        retention=retention,
        sharing=sharing,
        rules=screening,
        review=review,
        audit=audit,
        holds=holds,
        purge=purge,
        policy_json=policy_json,
        registry_file=_resolve(base, registry_name) if registry_name else None,
        policy=policy,
        second_opinion=second_opinion,
    )
