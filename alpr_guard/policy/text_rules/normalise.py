"""Text to words, the way people vary text to slip past a word list: Unicode folded, look-alike
letters of other scripts mapped, single letters joined into the acronym they spell, letters held
down counted once. The same function splits the rules' phrases, so both sides always agree."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_TOKEN = re.compile(r"[^\W_]+|#")
_DROP_CATEGORIES = frozenset({"Mn", "Me", "Cf"})  # combining marks; zero-width/format characters
# Between single letters, a separator an officer (or an evader) types: "I.C.E.", "I-C-E", "I_C_E",
# "I*C*E", "i - c - e", "I C E". Underscore is not a word character here (see _TOKEN).
_LETTER_SEP = re.compile(r" ?[-_.*~/|+:=\\\u2022\u00b7]{1,3} ?| ")
# Two single letters with such a separator between them: only then is _join_acronyms needed.
_SINGLES = re.compile(
    r"(?<![^\W_])[^\W\d_](?: ?[-_.*~/|+:=\\\u2022\u00b7]{1,3} ?| )[^\W\d_](?![^\W_])"
)
_RUN3 = re.compile(r"([^\W\d_])\1{2,}")  # a letter held down: "ICEEE", "immigraaation"
# The same two tests for a text all in ASCII (almost every reason), where a letter is [a-zA-Z]
# and a letter or digit [a-zA-Z0-9]: they find exactly what the two above find there, in half
# the time or less, which counts in a long reason (the Unicode classes are slow to test).
_SINGLES_ASCII = re.compile(
    r"(?<![a-zA-Z0-9])[a-zA-Z](?: ?[-_.*~/|+:=\\]{1,3} ?| )[a-zA-Z](?![a-zA-Z0-9])"
)
_RUN3_ASCII = re.compile(r"([a-zA-Z])\1\1")
_DOUBLE = re.compile(r"([a-z])\1+")
_CAPS_DOUBLE = re.compile(r"([A-Z])\1+")
# Digits typed for the letters they resemble ("1CE", "ER0", "ab0rtion", "U5CIS"): 1 is tried as
# i and as l.
_LEET_I = str.maketrans("0134578", "oieastb")
_LEET_L = str.maketrans("0134578", "oleastb")


# --------------------------------------------------------------------------- text to words


@dataclass(frozen=True, slots=True)
class _Field:
    text: str  # normalised
    spans: list[tuple[int, int]]
    orig: list[str]  # words as typed (acronyms joined, in capitals)
    low: list[str]


# Letters of other scripts drawn like a Latin letter in common fonts (Unicode's confusables data,
# UTS #39, restricted to whole-letter look-alikes): Cyrillic "\u0406\u0421\u0415" reads as ICE.
# NFKC has already folded full-width and mathematical letters to ASCII.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "\u0410": "A",
        "\u0412": "B",
        "\u0415": "E",
        "\u041a": "K",
        "\u041c": "M",
        "\u041d": "H",
        "\u041e": "O",
        "\u0420": "P",
        "\u0421": "C",
        "\u0422": "T",
        "\u0425": "X",
        "\u0423": "Y",
        "\u0406": "I",
        "\u0408": "J",
        "\u0405": "S",
        "\u0500": "D",
        "\u051a": "Q",
        "\u051c": "W",
        "\u04c0": "I",
        "\u0430": "a",
        "\u0435": "e",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0445": "x",
        "\u0443": "y",
        "\u0456": "i",
        "\u0458": "j",
        "\u0455": "s",
        "\u04bb": "h",
        "\u0501": "d",
        "\u04cf": "l",
        "\u051b": "q",
        "\u051d": "w",
        "\u044c": "b",
        "\u043f": "n",
        "\u0442": "t",
        "\u043a": "k",
        "\u043c": "m",
        "\u0433": "r",
        # Greek
        "\u0391": "A",
        "\u0392": "B",
        "\u0395": "E",
        "\u0396": "Z",
        "\u0397": "H",
        "\u0399": "I",
        "\u039a": "K",
        "\u039c": "M",
        "\u039d": "N",
        "\u039f": "O",
        "\u03a1": "P",
        "\u03a4": "T",
        "\u03a5": "Y",
        "\u03a7": "X",
        "\u03bf": "o",
        "\u03b9": "i",
        "\u03b1": "a",
        "\u03bd": "v",
        "\u03ba": "k",
        "\u03c1": "p",
        "\u03c5": "u",
        "\u03c7": "x",
        "\u03b5": "e",
        "\u03c4": "t",
        # other
        "\u0131": "i",
        "\u0269": "i",
        "\u01c0": "l",
        "\u029f": "L",
        "\u026a": "I",
        "\u1d04": "C",
        "\u1d07": "E",
        "\ua731": "S",
        "\u029c": "H",
        "\u1d0f": "O",
        "\u0280": "R",
        "\u1d05": "D",
        "\u0299": "B",
        "\u1d18": "P",
        "\u00f8": "o",
        "\u00d8": "O",
        "\u0111": "d",
        "\u0110": "D",
        "\u0142": "l",
        "\u0141": "L",
        "\u0127": "h",
        "\u0585": "o",
        "\u057d": "u",
        "\u13aa": "A",
        "\u13f4": "B",
        "\u13df": "C",
        "\u13ac": "E",
        "\u13bb": "H",
        "\u13a5": "i",
        "\u13da": "S",
        "\u13a2": "T",
        "\u00df": "ss",  # latin small letter sharp s
        "\u20ac": "E",  # euro sign, for an E
    }
)
# A dollar sign between letters is an S ("H$I"); a bar or an exclamation mark starting a word of
# two to four capitals is an I ("|CE", "!CE"). Phrases never hold these, so phrases are unchanged.
_DOLLAR_S = re.compile(r"(?<=[A-Za-z])\$(?=[A-Za-z])")
_BAR_I = re.compile(r"(?<![^\W_])[|!](?=[A-Z]{2,4}(?![^\W_]))")
# An at sign starting a word of lower-case letters is an a ("@bortion"); a handle names no word
# of the lists, so it is left as it was by every phrase.
_AT_A = re.compile(r"(?<![^\W_])@(?=[a-z]{4,})")


# Single letters spaced out with spaces only ("I  C  E   O P S"): a run of them, and each gap.
_SPACED = re.compile(r"(?<![^\W_])[^\W\d_](?: +[^\W\d_](?![^\W_])){2,}")
_GAP = re.compile(r" +")


def _wider_gaps(m: re.Match[str]) -> str:
    """In a run of single letters spaced out, a gap wider than the gaps on both sides of it
    separates two words ("I  C  E   O P S" is ICE OPS, not ICEOPS): it becomes a comma (no word
    character, no letter separator), every other gap one space."""
    run = m.group()
    gaps = [len(g) for g in _GAP.findall(run)]
    letters = run.split()
    out = [letters[0]]
    for k, width in enumerate(gaps):
        left = gaps[k - 1] if k else 0
        right = gaps[k + 1] if k + 1 < len(gaps) else 0
        wide = 0 < k < len(gaps) - 1 and width > left and width > right
        out.append(" , " if wide else " ")
        out.append(letters[k + 1])
    return "".join(out)


def _normalise(text: str) -> str:
    if "  " in text:
        text = _SPACED.sub(_wider_gaps, text)
    if "$" in text:
        text = _DOLLAR_S.sub("S", text)
    if "|" in text or "!" in text:
        text = _BAR_I.sub("I", text)
    if "@" in text:
        text = _AT_A.sub("a", text)
    if not text.isascii():  # ASCII needs none of this, and almost every reason is ASCII
        text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text))
        text = "".join(c for c in text if unicodedata.category(c) not in _DROP_CATEGORIES)
        text = text.translate(_CONFUSABLES)
    return " ".join(text.split())


def _join_acronyms(
    text: str, spans: list[tuple[int, int]], orig: list[str]
) -> tuple[list[tuple[int, int]], list[str]]:
    """Join "I.C.E.", "i.c.e", "U. S.", "I-C-E", "I_C_E", "h s i" into one word, as meant.

    A run of single letters joins when the letters are separated by dots (optionally with
    spaces: "I . C . E") from two letters on, or by any other short separator (a space, "-",
    "_", "*", "~", "/", "|", ...) from three letters on, so "a b" or "B-M" stay apart. A slash
    next to a two-letter run keeps it apart: "W/M. I saw" is a descriptor and a pronoun.
    """
    out_spans: list[tuple[int, int]] = []
    out_orig: list[str] = []
    n = len(orig)
    k = 0
    while k < n:
        m = k
        seps: list[str] = []
        while (
            m + 1 < n
            and len(orig[m]) == 1
            and len(orig[m + 1]) == 1
            and orig[m].isalpha()
            and orig[m + 1].isalpha()
        ):
            sep = text[spans[m][1] : spans[m + 1][0]]
            if not _LETTER_SEP.fullmatch(sep):
                break
            if (
                seps
                and sep[-1:].isspace()
                and sep != seps[-1]
                and not seps[-1].isspace()
                and _shorthand(text, spans[m + 1])
            ):
                # "i.c.e w/ subj", "H.S.I. w/ location": "w/" is "with", not a letter of the
                # acronym (after a space, whether or not the acronym's last dot was typed)
                break
            seps.append(sep)
            m += 1
        for a, b in _groups(k, seps):
            _join_group(text, spans, orig, a, b, seps[a - k : b - k], out_spans, out_orig)
        k = m + 1
    return out_spans, out_orig


def _shorthand(text: str, span: tuple[int, int]) -> bool:
    """A single letter typed with a slash after it ("w/", "w/o", "b/c", "B/M") is a shorthand
    word or a descriptor, never the next letter of an acronym spelled out with other separators.
    In any case of letters: "W/SUBJ" reads as "w/subj", so case never changes the words."""
    return text[span[1] : span[1] + 1] == "/"


def _slash_cuts(seps: list[str]) -> set[int]:
    """The plain spaces that set a slash pair ("B/M", a descriptor) apart from the letters next
    to it: "s B/M B/M" (after "girlfriend's") is s, B/M, B/M, not SBM and MBM. A space that is
    one of a run of spaces ("I C E/H S I": ICE and HSI) is left to ``_groups``, and so is a
    slash between letters joined by other separators ("I-C-E/H-S-I")."""
    cuts: set[int] = set()
    last = len(seps)
    for g, sep in enumerate(seps):
        neighbours = seps[max(g - 1, 0) : g] + seps[g + 1 : g + 2]
        if sep.strip() != "/" or sep in neighbours:
            continue  # no slash, or one of a run of slashes ("H/S/I")
        for side, beyond in ((g - 1, g - 2), (g + 1, g + 2)):
            if (
                0 <= side < last
                and seps[side] == " "
                and not (0 <= beyond < last and seps[beyond].isspace())
            ):
                cuts.add(side)
    return cuts


def _groups(k: int, seps: list[str]) -> list[tuple[int, int]]:
    """The letters k..k+len(seps) cut where the separator changes between two groups of two
    letters or more: "I.C.E. E.R.O." is ICE and ERO, "I.C.E. o p s" ICE and OPS (one separator
    inside each group, another between them). "I-C.E" stays one group (a lone letter is never
    cut off), and so does a run with one separator throughout. A slash pair set apart by single
    spaces is a group of its own (see ``_slash_cuts``)."""
    cuts = _slash_cuts(seps) if any("/" in sep for sep in seps) else set()
    if cuts:
        groups: list[tuple[int, int]] = []
        start = 0
        for g in sorted(cuts):
            groups += _groups(k + start, seps[start:g])
            start = g + 1
        return groups + _groups(k + start, seps[start:])
    groups = []
    start = 0
    last = len(seps)  # letters 0..last
    g = 0
    while g < last:
        if g > start and seps[g] != seps[g - 1] and last - g >= 2:
            groups.append((k + start, k + g))
            start = g + 1
            g = start
            continue
        g += 1
    groups.append((k + start, k + last))
    return groups


def _join_group(
    text: str,
    spans: list[tuple[int, int]],
    orig: list[str],
    k: int,
    m: int,
    seps: list[str],
    out_spans: list[tuple[int, int]],
    out_orig: list[str],
) -> None:
    """Append the single letters k..m as one word when they spell one (see _join_acronyms),
    else each as it was."""
    cores = [sep.strip() for sep in seps]
    dotted = "." in cores
    slashed = any("/" in core for core in cores)
    run = m - k + 1
    if run >= 3 or (run == 2 and dotted and not slashed):
        before = text[spans[k][0] - 1 : spans[k][0]] if spans[k][0] else ""
        after = text[spans[m][1] : spans[m][1] + 1]
        if run >= 3 or (before != "/" and after != "/"):
            out_spans.append((spans[k][0], spans[m][1]))
            out_orig.append("".join(orig[k : m + 1]).upper())
            return
    out_spans.extend(spans[k : m + 1])
    out_orig.extend(orig[k : m + 1])


def _held_down(orig: list[str]) -> list[str]:
    """ "ICEEE" -> "ICE", "immigraaation" -> "immigration": in a word of five letters or more, a
    letter three or more times in a row is one letter (and in capitals, a doubled one too:
    "IIICEE" -> "ICE"). Shorter words keep theirs ("USSS" is the
    Secret Service), and so do words of one letter held down ("aaaa": junk, not a word)."""
    out = []
    for w in orig:
        if not (len(w) >= 5 and _RUN3.search(w) and len(set(w.lower())) > 1):
            out.append(w)
        elif w.isupper() and w.isalpha():
            # In capitals, a word with a letter held down is spelled out of shape on purpose, so
            # its doubled letters count once too: "IIICEE" is ICE (not ICEE, the slushie).
            out.append(_CAPS_DOUBLE.sub(r"\1", w))
        else:
            out.append(_RUN3.sub(r"\1", w))
    return out


def _field(raw: str) -> _Field:
    text = _normalise(raw)
    spans = [m.span() for m in _TOKEN.finditer(text)]
    orig = [text[s:e] for s, e in spans]
    singles, run3 = (_SINGLES_ASCII, _RUN3_ASCII) if text.isascii() else (_SINGLES, _RUN3)
    if singles.search(text):
        spans, orig = _join_acronyms(text, spans, orig)
    if run3.search(text):
        orig = _held_down(orig)
    return _Field(text, spans, orig, [t.lower() for t in orig])
