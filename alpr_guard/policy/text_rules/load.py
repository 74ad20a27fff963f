"""Loading the ``[screening]`` table: validated (fail closed: every doubt is a ConfigError),
expanded ({a|b}, @list) and compiled once per process."""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Iterable, Mapping

from alpr_guard.errors import ConfigError
from alpr_guard.policy.text_rules.compiled import (
    _NUM,
    ACTIONS,
    JUNK_RULE,
    PARTIES,
    SEVERITIES,
    TextRules,
    _Cand,
    _Entry,
    _Node,
    _Phrase,
    _Rule,
    _Vague,
    _Words,
    cand,
    share,
)
from alpr_guard.policy.text_rules.match import (
    _FUZZY_LONGEST,
    _FUZZY_MIN,
    _SKELETON_MIN,
    _deletes,
    _fuzzy_limit,
)
from alpr_guard.policy.text_rules.normalise import _DOUBLE, _RUN3, _SINGLES, _field

_CODE = re.compile(r"[a-z][a-z0-9_]*")
_BRACES = re.compile(r"\{([^{}]*)\}")
_MAX_EXPANSION = 20_000
_DEFAULT_WINDOW = 3
_SHARE_EVERY = 4096  # phrases inserted between two sharings of the trie (see ``share``)
# A context window's largest reach in words: a plain "not our case" may come a long sentence after
# the agency it is about. The checks stay bounded per trigger, so a scan stays linear.
_MAX_WINDOW = 20
_JUNK_DEFAULTS = ("refuse", "medium")


# --------------------------------------------------------------------------- loading


def _at(where: str, path: str) -> str:
    # `where` is either "file: table" (continue its dotted key) or a bare file name.
    if not path:
        return where
    return f"{where}.{path}" if ": " in where else f"{where}: {path}"


def _fail(where: str, path: str, why: str) -> ConfigError:
    return ConfigError(f"{_at(where, path)}: {why}")


def _check_keys(table: Mapping[str, object], allowed: Iterable[str], where: str, path: str) -> None:
    known = frozenset(allowed)
    for key in sorted(str(k) for k in table):
        if key not in known:
            dotted = f"{path}.{key}" if path else key
            raise _fail(where, dotted, f"unknown key (allowed: {', '.join(sorted(known))})")


def _table(value: object, where: str, path: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise _fail(where, path, "must be a table")
    return value


def _strings(value: object, where: str, path: str) -> list[str]:
    if not isinstance(value, list):
        raise _fail(where, path, "must be a list of strings")
    for k, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise _fail(where, f"{path}[{k}]", "must be a non-empty string")
    return [str(v) for v in value]


def _choice(
    table: Mapping[str, object],
    key: str,
    allowed: tuple[str, ...],
    where: str,
    path: str,
    default: str | None = None,
) -> str:
    value = table.get(key, default)
    if value is None:
        raise _fail(where, f"{path}.{key}", f"is required (one of {', '.join(allowed)})")
    if not isinstance(value, str) or value not in allowed:
        raise _fail(where, f"{path}.{key}", f"must be one of {', '.join(allowed)}")
    return value


def _flag(table: Mapping[str, object], key: str, where: str, path: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise _fail(where, f"{path}.{key}", "must be true or false")
    return value


def _window(table: Mapping[str, object], key: str, default: int, where: str, path: str) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= _MAX_WINDOW:
        raise _fail(where, f"{path}.{key}", f"must be a whole number from 1 to {_MAX_WINDOW}")
    return value


def _list_ref(name: str, lists: Mapping[str, list[str]], where: str, path: str) -> list[str]:
    if name not in lists:
        raise _fail(where, path, f"names no list in [lists]: @{name}")
    return lists[name]


def _expand(
    items: list[str], lists: Mapping[str, list[str]], where: str, path: str
) -> list[tuple[str, str]]:
    """Expand ``@list`` items and ``{a|b|@list}`` groups into (phrase, key path) pairs."""
    out: list[tuple[str, str]] = []
    for k, item in enumerate(items):
        at = f"{path}[{k}]"
        text = item.strip()
        if text.startswith("@"):
            name = text[1:]
            out.extend((p, f"lists.{name}") for p in _list_ref(name, lists, where, at))
            continue
        pieces: list[list[str]] = []
        pos = 0
        for m in _BRACES.finditer(text):
            pieces.append([text[pos : m.start()]])
            options: list[str] = []
            for option in (o.strip() for o in m.group(1).split("|")):
                if option.startswith("@"):
                    options.extend(_list_ref(option[1:], lists, where, at))
                else:
                    options.append(option)
            pieces.append(options)
            pos = m.end()
        pieces.append([text[pos:]])
        if any("{" in p[0] or "}" in p[0] for p in pieces[::2]):
            raise _fail(where, at, "has unbalanced or nested braces")
        total = 1
        for options in pieces:
            total *= len(options)
        if total > _MAX_EXPANSION:
            raise _fail(where, at, f"expands to {total} phrases (at most {_MAX_EXPANSION})")
        out.extend((" ".join("".join(combo).split()), at) for combo in itertools.product(*pieces))
    return out


_PLAIN = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")  # lower-case words, single spaces


def _phrase_words(body: str) -> tuple[str, ...]:
    """The words of a phrase, split exactly as a text is."""
    if _PLAIN.fullmatch(body) and not _SINGLES.search(body) and not _RUN3.search(body):
        return tuple(body.split())  # the usual phrase: already what _field would make of it
    words: list[str] = []
    for k, part in enumerate(body.split(_NUM)):
        if k:
            words.append(_NUM)
        words.extend(_field(part).orig)
    return tuple(words)


def _phrase(text: str, case_sensitive: bool, where: str, path: str) -> _Phrase:
    """Compile one phrase with exactly the normalisation and word split used on the text.

    Not memoised: the expansions make some 200,000 phrases, three in four of them distinct, so
    a memo of them saved a tenth of the compile and held about 45 MB at its peak, which the
    process kept (freed small objects leave the allocator's arenas fragmented)."""
    prefix = text.endswith("*")
    body = text[:-1] if prefix else text
    if "*" in body:
        raise _fail(where, path, f"'*' is only allowed at the end of a phrase: {text!r}")
    words = _phrase_words(body)
    if not words:
        raise _fail(where, path, f"has no words: {text!r}")
    if prefix and (words[-1] == _NUM or len(words[-1]) < 3 or body != body.rstrip()):
        raise _fail(where, path, f"a prefix needs at least 3 letters before '*': {text!r}")
    # Interned: the expansions repeat the same few thousand words hundreds of thousands of
    # times, and the compiled rules live as long as the process.
    low = tuple([sys.intern(word.lower()) for word in words])  # (_NUM is in lower case already)
    exact = tuple(map(sys.intern, words)) if case_sensitive else None
    return _Phrase(low, exact, prefix)


def _words(
    value: object,
    lists: Mapping[str, list[str]],
    where: str,
    path: str,
    shared: dict[tuple[object, ...], _Node],
) -> _Words:
    root = _Node()
    longest = 0
    for n, (text, at) in enumerate(_expand(_strings(value, where, path), lists, where, path), 1):
        phrase = _phrase(text, False, where, at)
        root.insert(phrase, cand(phrase, -1, -1))
        longest = max(longest, len(phrase.words))
        if n % _SHARE_EVERY == 0:
            share(root, shared)
    share(root, shared)
    return _Words(root, longest)


def _regex(text: str, flags: int, where: str, path: str) -> re.Pattern[str]:
    try:
        pattern = re.compile(text, flags)
    except re.error as exc:
        raise _fail(where, path, f"is not a valid regular expression ({exc.msg})") from None
    # A pattern that can match nothing at all would fire on every text: refuse it.
    if any(m.start() == m.end() for probe in ("", "a 1 a.") for m in pattern.finditer(probe)):
        raise _fail(where, path, "matches the empty string")
    return pattern


_TOP_KEYS = ("rules", "lists", "fuzzy")
_FUZZY_KEYS = ("words", "never")
_RULE_KEYS = ("action", "severity", "description", "exclude", "match")
_JUNK_RULE_KEYS = (*_RULE_KEYS, "words", "whole_text", "junk_action", "junk_severity")
_CONTEXT_KEYS = (
    "near",
    "before",
    "after",
    "not_near",
    "not_before",
    "not_after",
    "right_before",
    "right_after",
)
_ENTRY_KEYS = (
    "action",
    "party",
    "terms",
    "patterns",
    "case_sensitive",
    "skip_if_all_caps",
    "alone",
    "window",
    "not_window",
    *_CONTEXT_KEYS,
)


class _Builder:
    def __init__(self, where: str, lists: Mapping[str, list[str]]) -> None:
        self.where = where
        self.lists = lists
        self.rules: list[_Rule] = []
        self.entries: list[_Entry] = []
        self.trie = _Node.root()
        self.patterns: list[tuple[int, re.Pattern[str]]] = []
        # Context lists compiled so far, by their items: entries repeat the same ones ("@for_whom"
        # right before, "@victim_crimes" as a veto), and a compiled one is never changed.
        self.contexts: dict[tuple[str, ...], _Words] = {}
        # Every distinct subtree of the tries made so far (see ``share``); only while compiling.
        self.shared: dict[tuple[object, ...], _Node] = {}
        self.pending = 0  # phrases inserted since the trie was last shared

    def context(self, value: object, path: str) -> _Words:
        key = tuple(_strings(value, self.where, path))
        words = self.contexts.get(key)
        if words is None:
            words = self.contexts[key] = _words(
                list(key), self.lists, self.where, path, self.shared
            )
        return words

    def insert(self, phrase: _Phrase, candidate: _Cand) -> None:
        self.trie.insert(phrase, candidate)
        self.pending += 1
        if self.pending == _SHARE_EVERY:
            self.share()

    def share(self) -> None:
        """Fold the subtrees inserted since the last call into the shared ones: bounds the
        nodes alive at once while compiling to a few thousand phrases' worth."""
        share(self.trie, self.shared)
        self.pending = 0

    def exclude(self, value: object, rule: int, path: str) -> None:
        for text, at in _expand(_strings(value, self.where, path), self.lists, self.where, path):
            phrase = _phrase(text, False, self.where, at)
            self.insert(phrase, cand(phrase, -1, rule))

    def entry(self, body: Mapping[str, object], rule: int, path: str) -> None:
        where = self.where
        _check_keys(body, _ENTRY_KEYS, where, path)
        action = _choice(body, "action", ACTIONS, where, path, self.rules[rule].action)
        party: str | None = None
        if "party" in body:
            party = _choice(body, "party", PARTIES, where, path)
            if action != "refuse":
                raise _fail(
                    where, f"{path}.party", 'names who a refusal is for: needs action "refuse"'
                )
        case_sensitive = _flag(body, "case_sensitive", where, path)
        window = _window(body, "window", _DEFAULT_WINDOW, where, path)
        contexts = {
            key: self.context(body[key], f"{path}.{key}") if key in body else None
            for key in _CONTEXT_KEYS
        }
        terms = _strings(body.get("terms", []), where, f"{path}.terms")
        patterns = _strings(body.get("patterns", []), where, f"{path}.patterns")
        if not terms and not patterns:
            raise _fail(where, path, "needs at least one of terms or patterns")
        entry_id = len(self.entries)
        self.entries.append(
            _Entry(
                rule=rule,
                action=action,
                party=party,
                alone=_flag(body, "alone", where, path),
                skip_if_all_caps=_flag(body, "skip_if_all_caps", where, path),
                window=window,
                not_window=_window(body, "not_window", window, where, path),
                near=contexts["near"],
                before=contexts["before"],
                after=contexts["after"],
                not_near=contexts["not_near"],
                not_before=contexts["not_before"],
                not_after=contexts["not_after"],
                right_before=contexts["right_before"],
                right_after=contexts["right_after"],
            )
        )
        for text, at in _expand(terms, self.lists, where, f"{path}.terms"):
            phrase = _phrase(text, case_sensitive, where, at)
            self.insert(phrase, cand(phrase, entry_id, rule))
        flags = 0 if case_sensitive else re.IGNORECASE
        for k, text in enumerate(patterns):
            self.patterns.append((entry_id, _regex(text, flags, where, f"{path}.patterns[{k}]")))

    def freeze(
        self,
        vague: _Vague | None,
        junk: tuple[str, str],
        fuzzy: tuple[list[tuple[str, str]], list[str]] = ([], []),
    ) -> TextRules:
        self.share()
        self.shared.clear()  # the kept nodes live on in the trie; the index of them does not
        vocab: set[str] = set()
        stems: dict[str, list[str]] = {}
        for node in self.trie.nodes():
            vocab.update(node.children)
            if node.only_word is not None:
                vocab.add(node.only_word)
            for bucket in (node.prefixes or {}).values():
                for stem, _ in bucket:
                    if stem not in stems.setdefault(stem[:3], []):
                        stems[stem[:3]].append(stem)
        skeletons: dict[str, str] = {}
        for word in sorted(vocab | {s for b in stems.values() for s in b}):
            if len(word) >= _SKELETON_MIN and word.isalpha():
                skeletons.setdefault(_DOUBLE.sub(r"\1", word), word)
        index: dict[str, list[str]] = {}
        targets, never = fuzzy
        probe = TextRules(
            (),
            (),
            self.trie,
            (),
            None,
            "",
            "",
            {},
            frozenset(vocab),
            {k: tuple(v) for k, v in stems.items()},
            {},
        )
        for word, at in targets:
            if not probe.known(word):
                raise _fail(
                    self.where, at, f"is not a word of any phrase (nothing to repair to): {word!r}"
                )
            for variant in _deletes(word, _fuzzy_limit(word)):
                if word not in index.setdefault(variant, []):
                    index[variant].append(word)
        return TextRules(
            rules=tuple(self.rules),
            entries=tuple(self.entries),
            trie=self.trie,
            patterns=tuple(self.patterns),
            vague=vague,
            junk_action=junk[0],
            junk_severity=junk[1],
            fixes={},
            vocab=frozenset(vocab),
            stems={k: tuple(v) for k, v in stems.items()},
            skeletons=skeletons,
            fuzzy={k: tuple(v) for k, v in index.items()},
            fuzzy_never=frozenset(never),
            non_ascii_only=frozenset(
                k
                for k, (_, pattern) in enumerate(self.patterns)
                if all(c == "|" or not c.isascii() for c in pattern.pattern)
            ),
        )


def _lists(value: object, where: str) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    for name, items in _table(value, where, "lists").items():
        if not _CODE.fullmatch(str(name)):
            raise _fail(where, f"lists.{name}", "list names are lower-case words (a-z, 0-9, _)")
        strings = _strings(items, where, f"lists.{name}")
        for k, item in enumerate(strings):
            if item.strip().startswith("@"):
                raise _fail(where, f"lists.{name}[{k}]", "a list cannot include another list")
        # An item may hold alternatives, and {@list} of a list defined ABOVE it (so lists never
        # refer to each other in a circle): "{policia|sheriff} de {@other_states}".
        lists[str(name)] = [p for p, _ in _expand(strings, lists, where, f"lists.{name}")]
    return lists


def _vague_part(
    body: Mapping[str, object], rule: int, where: str, path: str, lists: Mapping[str, list[str]]
) -> _Vague:
    words: set[str] = set()
    raw_words = _strings(body.get("words", []), where, f"{path}.words")
    for text, at in _expand(raw_words, lists, where, f"{path}.words"):
        p = _phrase(text, False, where, at)
        if len(p.words) != 1 or p.prefix or p.words[0] == _NUM:
            raise _fail(where, at, f"must be a single plain word: {text!r}")
        words.add(p.words[0])
    whole: list[tuple[re.Pattern[str], str]] = []
    raw = body.get("whole_text", [])
    if not isinstance(raw, list):
        raise _fail(where, f"{path}.whole_text", "must be an array of tables")
    for k, item in enumerate(raw):
        at = f"{path}.whole_text[{k}]"
        table = _table(item, where, at)
        _check_keys(table, ("pattern", "label"), where, at)
        pattern, label = table.get("pattern"), table.get("label")
        if not isinstance(pattern, str) or not pattern:
            raise _fail(where, f"{at}.pattern", "must be a non-empty string")
        if not isinstance(label, str) or not label.strip():
            raise _fail(where, f"{at}.label", "must be a non-empty string")
        whole.append((_regex(pattern, re.IGNORECASE, where, f"{at}.pattern"), label.strip()))
    return _Vague(rule, frozenset(words), tuple(whole))


_COMPILED: dict[tuple[str, str], TextRules] = {}
_COMPILED_LIMIT = 8


def load_text_rules(table: Mapping[str, object], where: str) -> TextRules:
    """Parse and compile the ``[screening]`` table; see ``_load_text_rules``.

    The same table is compiled once per process: the shipped lists expand to tens of thousands
    of phrases (about a second), and settings are loaded again for every job, every CLI command
    and every test. Compiled rules are immutable (their only state is a bounded memo of word
    repairs), so sharing them is safe."""
    try:
        key = (where, json.dumps(table, sort_keys=True))
    except (TypeError, ValueError):  # not plain TOML data: compile it, every time
        return _load_text_rules(table, where)
    rules = _COMPILED.get(key)
    if rules is None:
        rules = _load_text_rules(table, where)
        if len(_COMPILED) >= _COMPILED_LIMIT:
            _COMPILED.clear()
        _COMPILED[key] = rules
    return rules


def _load_text_rules(table: Mapping[str, object], where: str) -> TextRules:
    """Parse and compile the ``[screening]`` table (fails closed: every doubt is a ConfigError).

    ``where`` names the source, e.g. "config/california.toml: screening" (messages then read
    "config/california.toml: screening.rules.profiling.severity: must be one of high, medium,
    low") or a bare file name (then "rules.california.toml: rules.profiling.severity: ...").
    Unknown keys, wrong types, bad regexes, references to missing lists and phrases without words
    are all errors: a typo in a word list must not silently switch a legal protection off.
    """
    root = _table(table, where, "")
    _check_keys(root, _TOP_KEYS, where, "")
    lists = _lists(root.get("lists", {}), where)
    if "rules" not in root:
        raise _fail(where, "rules", "is required (a table of rules by code)")
    raw_rules = _table(root["rules"], where, "rules")
    if not raw_rules:
        raise _fail(where, "rules", "must define at least one rule")
    build = _Builder(where, lists)
    vague: _Vague | None = None
    junk = _JUNK_DEFAULTS  # fail closed: junk is refused even without a vague_justification table
    for code, raw in raw_rules.items():
        path = f"rules.{code}"
        if not _CODE.fullmatch(str(code)):
            raise _fail(where, path, "rule codes are lower-case words (a-z, 0-9, _)")
        body = _table(raw, where, path)
        is_junk_rule = code == JUNK_RULE
        _check_keys(body, _JUNK_RULE_KEYS if is_junk_rule else _RULE_KEYS, where, path)
        if not isinstance(body.get("description", ""), str):
            raise _fail(where, f"{path}.description", "must be a string")
        rule_id = len(build.rules)
        build.rules.append(
            _Rule(
                str(code),
                _choice(body, "action", ACTIONS, where, path),
                _choice(body, "severity", SEVERITIES, where, path),
            )
        )
        build.exclude(body.get("exclude", []), rule_id, f"{path}.exclude")
        raw_entries = body.get("match", [])
        if not isinstance(raw_entries, list):
            raise _fail(where, f"{path}.match", "must be an array of tables ([[...match]])")
        if not raw_entries and not is_junk_rule:
            raise _fail(where, f"{path}.match", "needs at least one [[match]] entry")
        for k, raw_entry in enumerate(raw_entries):
            at = f"{path}.match[{k}]"
            build.entry(_table(raw_entry, where, at), rule_id, at)
        if is_junk_rule:
            vague = _vague_part(body, rule_id, where, path, lists)
            junk = (
                _choice(body, "junk_action", ACTIONS, where, path, _JUNK_DEFAULTS[0]),
                _choice(body, "junk_severity", SEVERITIES, where, path, _JUNK_DEFAULTS[1]),
            )
    return build.freeze(vague, junk, _fuzzy_part(root.get("fuzzy", {}), where))


def _fuzzy_part(value: object, where: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``[fuzzy]``: ``words`` (the agency and act words whose misspellings are repaired; each a
    single word of at least six letters that some phrase uses) and ``never`` (ordinary words near
    one of them that stay as typed)."""
    table = _table(value, where, "fuzzy")
    _check_keys(table, _FUZZY_KEYS, where, "fuzzy")
    out: dict[str, list[tuple[str, str]]] = {}
    for key in _FUZZY_KEYS:
        out[key] = []
        for k, text in enumerate(_strings(table.get(key, []), where, f"fuzzy.{key}")):
            at = f"fuzzy.{key}[{k}]"
            words = _field(text).low
            if len(words) != 1 or not words[0].isalpha():
                raise _fail(where, at, f"must be a single word of letters: {text!r}")
            if key == "words" and not _FUZZY_MIN <= len(words[0]) <= _FUZZY_LONGEST:
                raise _fail(
                    where, at, f"must have {_FUZZY_MIN} to {_FUZZY_LONGEST} letters: {text!r}"
                )
            out[key].append((words[0], at))
    return out["words"], [w for w, _ in out["never"]]
