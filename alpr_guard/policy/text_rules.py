"""Justification text rules: which misuse patterns a free-text search reason shows.

ACCESS_REVIEW.md lists what misuse looks like in real ALPR audit logs (2025-2026): immigration
agencies named as the reason ("ICE", "HSI", "per CBP"), searches run for out-of-state or federal
agencies, protests and clinics, personal look-ups, profiling descriptors, and reasons that justify
nothing ("inv", ".", a case number typed as the reason). The word lists live in the config so an
agency can tune them without a release; this module is the generic matcher:

* text is normalised first (NFKC, accents and zero-width characters removed, dotted or spaced
  acronyms such as "I.C.E." or "I C E" joined), so obfuscation does not slip through;
* ``terms`` match case-insensitively on word boundaries (a trailing ``*`` allows a suffix:
  ``deport*``), ``exact`` terms match case-sensitively (``ICE`` the agency, not "ice"), and
  ``patterns`` are regular expressions for context ("ice" next to "agent" or "asked");
* ``exclude`` phrases and patterns are blanked out before matching, so "ice cream truck",
  "black ice" or "burglary of a church" never fire;
* ``whole`` terms match only when they are the entire justification ("inv", "check").

Everything is compiled once at load time; ``scan`` runs a handful of regexes per rule.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from alpr_guard.errors import ConfigError

JUNK_RULE = "vague_justification"
SEVERITIES = ("high", "medium", "low")
ACTIONS = ("refuse", "flag")
_SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}
_RULE_KEYS = frozenset(
    {
        "action",
        "severity",
        "terms",
        "exact",
        "patterns",
        "exclude",
        "exclude_patterns",
        "whole",
        "whole_patterns",
        "description",
    }
)

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_DOTTED = re.compile(r"\b(?:[A-Za-z]\s?\.\s?){2,5}(?![A-Za-z])")
_SPACED = re.compile(r"(?<![A-Za-z])(?:[A-Z] ){1,4}[A-Z](?![A-Za-z])")
_PUNCT_ONLY = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class TextMatch:
    rule: str
    severity: str
    action: str
    matched: tuple[str, ...]


@dataclass(frozen=True)
class _Rule:
    code: str
    action: str
    severity: str
    exclude: re.Pattern[str] | None
    match: re.Pattern[str] | None  # terms, exact terms and patterns in one pass
    whole: frozenset[str]
    whole_patterns: re.Pattern[str] | None


@dataclass(frozen=True)
class TextRules:
    rules: tuple[_Rule, ...]
    junk_action: str
    junk_severity: str


def normalise_text(text: str) -> str:
    """Undo the obfuscations seen in real logs without changing what the words mean."""
    if not text.isascii():  # ASCII needs none of this, and most reasons are ASCII
        text = unicodedata.normalize("NFKC", text)
        text = _ZERO_WIDTH.sub("", text)
        text = "".join(
            ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch)
        )
    text = _DOTTED.sub(lambda m: re.sub(r"[\s.]", "", m.group(0)), text)
    text = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    return " ".join(text.split())


def _term(term: str) -> str:
    body = term.rstrip("*")
    escaped = r"\s+".join(re.escape(word) for word in body.split())
    return escaped + (r"\w*" if term.endswith("*") else "")


def _terms(terms: list[str], *, case_sensitive: bool = False) -> list[str]:
    """One word-boundary group around all the terms: far cheaper than a lookaround each."""
    if not terms:
        return []
    group = rf"(?<!\w)(?:{'|'.join(_term(t) for t in terms)})(?!\w)"
    return [f"(?-i:{group})" if case_sensitive else group]


def _compile(parts: list[str], flags: int, where: str) -> re.Pattern[str] | None:
    if not parts:
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in parts), flags)
    except re.error as exc:
        raise ConfigError(f"{where}: invalid regular expression: {exc}") from None


def _strings(table: Mapping[str, object], key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}.{key}: must be a list of non-empty strings")
    return [str(v) for v in value]


def _choice(
    table: Mapping[str, object], key: str, allowed: tuple[str, ...], default: str, where: str
) -> str:
    value = table.get(key, default)
    if value not in allowed:
        raise ConfigError(f"{where}.{key}: must be one of {', '.join(allowed)}")
    return str(value)


def load_text_rules(table: Mapping[str, object], where: str) -> TextRules:
    """Parse and compile the ``[screening]`` table; every error names the key (fails closed)."""
    unknown = sorted(set(table) - {"rules", "junk"})
    if unknown:
        raise ConfigError(f"{where}: {unknown[0]}: unknown key")
    junk = table.get("junk", {})
    if not isinstance(junk, Mapping):
        raise ConfigError(f"{where}: junk: must be a table")
    for key in sorted(set(junk) - {"action", "severity"}):
        raise ConfigError(f"{where}: junk.{key}: unknown key")
    raw_rules = table.get("rules", {})
    if not isinstance(raw_rules, Mapping):
        raise ConfigError(f"{where}: rules: must be a table")
    rules = []
    for code, body in raw_rules.items():
        at = f"{where}: rules.{code}"
        if not isinstance(body, Mapping):
            raise ConfigError(f"{at}: must be a table")
        for key in sorted(set(body) - _RULE_KEYS):
            raise ConfigError(f"{at}.{key}: unknown key")
        if "description" in body and not isinstance(body["description"], str):
            raise ConfigError(f"{at}.description: must be a string")
        terms = _terms(_strings(body, "terms", at))
        patterns = _strings(body, "patterns", at)
        exact = _terms(_strings(body, "exact", at), case_sensitive=True)
        exclude = _terms(_strings(body, "exclude", at)) + _strings(body, "exclude_patterns", at)
        whole = frozenset(
            " ".join(_PUNCT_ONLY.sub(" ", w.lower()).split()) for w in _strings(body, "whole", at)
        )
        rules.append(
            _Rule(
                code=str(code),
                action=_choice(body, "action", ACTIONS, "flag", at),
                severity=_choice(body, "severity", SEVERITIES, "medium", at),
                exclude=_compile(exclude, re.IGNORECASE, f"{at}.exclude"),
                match=_compile(terms + exact + patterns, re.IGNORECASE, f"{at}.terms/patterns"),
                whole=whole,
                whole_patterns=_compile(
                    _strings(body, "whole_patterns", at), re.IGNORECASE, f"{at}.whole_patterns"
                ),
            )
        )
    return TextRules(
        rules=tuple(rules),
        junk_action=_choice(junk, "action", ACTIONS, "refuse", f"{where}: junk"),
        junk_severity=_choice(junk, "severity", SEVERITIES, "medium", f"{where}: junk"),
    )


def is_junk(text: str) -> bool:
    """Blank, punctuation only, one character, or only digits: justifies nothing."""
    core = _PUNCT_ONLY.sub("", text)
    return len(core) <= 1 or core.isdigit()


def scan(
    rules: TextRules, justification: str, case_number: str | None = None
) -> tuple[TextMatch, ...]:
    """Every rule the justification triggers, refusals first, then by severity, then code."""
    text = normalise_text(justification)
    matches: list[TextMatch] = []
    if is_junk(text):
        matches.append(TextMatch(JUNK_RULE, rules.junk_severity, rules.junk_action, ()))
    whole = " ".join(_PUNCT_ONLY.sub(" ", text.lower()).split())
    case = " ".join(_PUNCT_ONLY.sub(" ", (case_number or "").lower()).split())
    for rule in rules.rules:
        found: list[str] = []
        if rule.whole and whole in rule.whole:
            found.append(whole)
        if rule.whole_patterns is not None and rule.whole_patterns.fullmatch(text.strip()):
            found.append(text.strip())
        if rule.code == JUNK_RULE and case and whole == case:
            found.append("case number as reason")
        if rule.match is not None and rule.match.search(text) is not None:
            # Only now pay for the exclusions: most reasons match no rule at all.
            subject = rule.exclude.sub(" ", text) if rule.exclude is not None else text
            found += [m.group(0) for m in rule.match.finditer(subject)]
        if found and not (rule.code == JUNK_RULE and matches and matches[0].rule == JUNK_RULE):
            matches.append(
                TextMatch(rule.code, rule.severity, rule.action, tuple(dict.fromkeys(found)))
            )
    matches.sort(key=lambda m: (m.action != "refuse", _SEVERITY_ORDER[m.severity], m.rule))
    return tuple(matches)
