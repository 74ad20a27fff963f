"""Justification text rules: which misuse patterns a search reason (or case number) shows.

Why this exists: public-records releases of ALPR audit logs (2025-2026, studied by the University
of Washington Center for Human Rights, EFF and 404 Media; see docs/access-review.md) show
California officers running searches whose typed reason was "ICE", "per HSI", "immigration",
"had an abortion, search for female", "per FBI", "protest", "my ex", "B/M", "inv" or a lone ".".
The California Values Act (Gov. Code 7284.6) and AB 1242 forbid the first kinds outright, so
they are refused before the search runs; the rest are flagged for the access review (Civil Code
1798.90.52(b): use only for the policy's purposes).

Naive keyword lists fail both ways, so this module is a generic matcher and the word lists live in
the config (``config/rules.california.toml``), where an agency can tune them without a release:

* Text is normalised the way people vary it to slip past a filter, in one linear pass: NFKC
  (full-width and mathematical letters), combining marks (accents) and zero-width/format
  characters removed, look-alike letters of other scripts folded (Cyrillic, Greek), whitespace
  collapsed.
* It is split into words (runs of letters and digits, and "#"), so punctuation never matters:
  "ICE/HSI", "ICE-ERO" and "girlfriend's car" are word sequences. Runs of single letters joined by
  dots ("I.C.E.", "i.c.e", "U. S.") or, from three letters, by any short separator ("I-C-E",
  "I_C_E", "h s i") become one word, two words where the separator changes ("I.C.E. E.R.O."),
  never taking in a shorthand letter with a slash ("i.c.e w/ subj"); a letter held down counts
  once ("ICEEE", not "USSS"); an at sign starting a lower-case word is an a ("@bortion").
* At scan time a word no phrase knows is repaired when it reads as one that a phrase does know:
  digits for look-alike letters ("1CE", "1C3", "1c3", "ER0", "ab0rtion"), a lower-case L among
  capitals ("lCE", "HSl"), a doubled letter added or dropped in a long word ("deporrtation",
  "imigration"), an ending spelled as it sounds ("aborshun"). Only words of the rules are
  produced, so plates and case numbers are never rewritten.
* An entry may set its own ``action`` (refuse where its rule only flags) and, for a refusal, the
  ``party`` the text says the search is for ("federal", "out_of_state", "private"): screening
  then refuses with the reason code an on_behalf_of naming such an agency gets.
  ``right_before``/``right_after`` are contexts that must touch the trigger ("for the" FBI).
* A rule is a list of match entries. Each entry has ``terms`` (word phrases, found through a word
  trie: one dict lookup per word however many phrases there are) and/or ``patterns`` (regular
  expressions), plus options: ``case_sensitive`` ("ICE" the agency, not "ice"),
  ``skip_if_all_caps`` (in a field typed all in capitals case says nothing: "STOLEN VEHICLE, ICE
  BLUE ACCORD"), ``alone`` (the term is the whole field), and context windows:
  ``near``/``before``/``after`` (one of these within ``window`` words) and
  ``not_near``/``not_before``/``not_after`` (none within ``not_window`` words; a veto). A rule's
  ``exclude`` phrases cancel any trigger lying inside them ("ice cream", "unlawful detainer").
* Phrase syntax: ``word*`` (prefix, last word only), ``<num>`` (any number), ``{a|b|@list}``
  (alternatives, expanded at load time; an empty alternative makes the slot optional) and
  ``@list`` as a whole item (every phrase of a named list in ``[lists]``).
* ``vague_justification`` is special: blank, punctuation only, one character or digits only is
  junk (``junk_action``, refused by default, and also when the table is missing: fail closed); a
  reason made only of non-informative ``words`` ("inv", "check", "per sgt"), matching a
  ``whole_text`` pattern (a case number or radio code typed as the reason) or equal to the case
  number field is vague (``action``, flagged by default).

``TextMatch.matched`` holds the words that triggered a rule as they appear in the normalised text.
For junk and whole-text vague matches it holds a label ("digits only", "case number") instead:
officers sometimes type the plate itself as the reason, and a finding must never hold a plate.
"""

from __future__ import annotations

from alpr_guard.policy.text_rules.compiled import (
    ACTIONS,
    JUNK_RULE,
    PARTIES,
    SEVERITIES,
    TextMatch,
    TextRules,
)
from alpr_guard.policy.text_rules.load import load_text_rules
from alpr_guard.policy.text_rules.match import field_triggers, scan, scan_words, words_of

__all__ = [
    "ACTIONS",
    "JUNK_RULE",
    "PARTIES",
    "SEVERITIES",
    "TextMatch",
    "TextRules",
    "field_triggers",
    "load_text_rules",
    "scan",
    "scan_words",
    "words_of",
]
