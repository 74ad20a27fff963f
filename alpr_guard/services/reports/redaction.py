"""Masking personal data an officer may have typed into free text (justification, case number)
before a report is released: the redacted form of the access report and the display copy of
free text (``services.free_text``) use it. Plates typed into text are another matter, masked by
``policy.redaction``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_MONTH = r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    r"|(?:19|20)\d{2}[/.\-]\d{1,2}[/.\-]\d{1,2}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}})"
)
# Numbers that begin with a digit, in one pass that starts with "\d" so the regex engine skips
# straight from digit to digit. The first digit is consumed before the alternatives, which is
# why each of them asks for one digit less; "(?<!\w\d)" is the word boundary before it.
_NUMBERS = (
    r"\d(?<!\w\d)(?:"
    r"(?P<card>(?:[ \-]?\d){12,18}\b)"
    r"|(?P<ssn>\d{2}-?\d{2}-?\d{4}\b)"
    r"|(?P<phone>\d{2}[\s.\-]?\d{3}[\s.\-]?\d{4}\b)"
    r"|(?P<date>(?:\d?[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    r"|\d{3}[/.\-]\d{1,2}[/.\-]\d{1,2}"
    rf"|\d?\s+{_MONTH},?\s+\d{{4}})\b))"
)
_NUMBER_LABELS = {"card": "[card]", "ssn": "[ssn]", "phone": "[phone]", "date": "[date]"}
_TWO_DIGITS = re.compile(r"\d\d")
_FOUR_DIGITS = re.compile(r"\d{4}")
_SEVEN_DIGITS = re.compile(r"\d{7}")


def _mentions_birth(text: str) -> bool:
    low = text.lower()
    return "dob" in low or "birth" in low or "born" in low or "d.o.b" in low


def _dob(match: re.Match[str]) -> str:
    # Keep the word the officer typed: "DOB [dob]" still reads as what it was.
    return f"{match['kw']}{match['sep']}[dob]"


def _number(match: re.Match[str]) -> str:
    return _NUMBER_LABELS[match.lastgroup or "date"]


@dataclass(frozen=True)
class Redaction:
    """One kind of personal data: its pattern, what replaces it, and a cheap test that lets
    a text skip the pattern when it cannot match (a report redacts a million rows)."""

    name: str
    pattern: re.Pattern[str]
    replacement: str | Callable[[re.Match[str]], str]
    applies: Callable[[str], object]


# In this order: the most specific shapes first, so a looser later pattern never sees them
# (a date of birth before a bare date, a bracketed phone before the bare numbers). Over-masking
# is the safe failure for a document meant for release.
REDACTIONS: tuple[Redaction, ...] = (
    Redaction(
        "email",
        re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
        "[email]",
        lambda t: "@" in t,
    ),
    Redaction(
        "dob",
        re.compile(
            r"(?i:\b(?P<kw>DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?))"
            r"(?P<sep>\s*[:#=\-]?\s*)" + _DATE
        ),
        _dob,
        _mentions_birth,
    ),
    Redaction(
        "phone",
        re.compile(
            r"(?:\+?1[\s.\-]?)?\(\d{3}\)\s?\d{3}[\s.\-]?\d{4}\b"
            r"|\+1[\s.\-]?\d{3}[\s.\-]?\d{3}[\s.\-]?\d{4}\b"
        ),
        "[phone]",
        lambda t: "(" in t or "+" in t,
    ),
    Redaction("number", re.compile(_NUMBERS), _number, _TWO_DIGITS.search),
    Redaction(
        "date",
        # Month first ("March 3, 1975"); starts with a character class so the engine skips
        # to candidate letters, "(?<![A-Za-z][A-Za-z])" being the word boundary before it.
        re.compile(
            r"[JFMASONDjfmasond](?<![A-Za-z][A-Za-z])(?i:an|eb|ar|pr|ay|un|ul|ug|ep|ct|ov|ec)"
            r"[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b"
        ),
        "[date]",
        _FOUR_DIGITS.search,
    ),
    Redaction("dl", re.compile(r"\b[A-Za-z]\d{7}\b"), "[dl]", _SEVEN_DIGITS.search),
)
# Every pattern above needs a digit or an "@": text without either is returned untouched.
_SIGNAL = re.compile(r"[\d@]")


def redact_text(text: str) -> str:
    """Mask personal data an officer may have typed into free text (justification, case
    number) before a report is released: SSNs, dates of birth (and other dates), California
    driver's licence numbers, phone numbers, emails and card numbers."""
    if not _SIGNAL.search(text):
        return text
    for redaction in REDACTIONS:
        if redaction.applies(text):
            text = redaction.pattern.sub(redaction.replacement, text)
    return text
