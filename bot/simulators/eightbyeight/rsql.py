"""The RSQL subset the fake 8x8 understands in `GET /users?filter=...&sort=...`.

``==`` and ``!=`` on a few basicInfo fields, ``;`` (and), ``,`` (or), parentheses; values may be quoted; ``*`` is
a wildcard and matching ignores case, as 8x8's does (so a client must check for an exact match itself). A query it
cannot read raises `BadQuery`, which the API answers as a validation error on `filter` or `sort`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

FILTER_FIELDS = {
    "basicInfo.userName": "userName",
    "basicInfo.primaryEmail": "primaryEmail",
    "basicInfo.status": "status",
    "basicInfo.firstName": "firstName",
    "basicInfo.lastName": "lastName",
}

Predicate = Callable[[dict], bool]


class BadQuery(ValueError):
    """A filter or sort the fake cannot read; the message is what the API answers."""


_TOKEN = re.compile(
    r"""\s*(?:(?P<punct>[();,])|(?P<op>==|!=|=[a-z]*=)|(?P<quoted>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    r"""|(?P<word>[^\s'"();,=!~<>]+))"""
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].isspace():
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise BadQuery(f"Invalid filter syntax near position {position}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "quoted":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        position = match.end()
    return tokens


def _wildcard(value: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in value.split("*")), re.IGNORECASE | re.DOTALL)


def parse_filter(text: str) -> Predicate:
    """Compile the RSQL subset the fake understands (``==``/``!=``, ``;`` and, ``,`` or, parentheses)."""
    return _Parser(_tokens(text)).parse()


class _Parser:
    """Recursive descent: disjunction := conjunction ("," conjunction)*; conjunction := primary (";" primary)*;
    primary := "(" disjunction ")" | field operator value."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def parse(self) -> Predicate:
        predicate = self.disjunction()
        if self.position != len(self.tokens):
            raise BadQuery(f"Invalid filter syntax: unexpected {self.tokens[self.position][1]!r}")
        return predicate

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise BadQuery("Invalid filter syntax: unexpected end")
        self.position += 1
        return self.tokens[self.position - 1]

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.peek() == ("punct", ","):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda user: any(part(user) for part in parts))

    def conjunction(self) -> Predicate:
        parts = [self.primary()]
        while self.peek() == ("punct", ";"):
            self.take()
            parts.append(self.primary())
        return parts[0] if len(parts) == 1 else (lambda user: all(part(user) for part in parts))

    def primary(self) -> Predicate:
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.disjunction()
            if self.take() != ("punct", ")"):
                raise BadQuery("Invalid filter syntax: missing ')'")
            return inner
        kind, selector = self.take()
        if kind != "word":
            raise BadQuery(f"Invalid filter syntax: expected a field, got {selector!r}")
        if selector not in FILTER_FIELDS:
            raise BadQuery(f"Unknown filter field {selector!r}")
        kind, operator = self.take()
        if kind != "op" or operator not in ("==", "!="):
            raise BadQuery(f"Unsupported filter operator {operator!r}")
        kind, value = self.take()
        if kind not in ("word", "quoted"):
            raise BadQuery(f"Invalid filter syntax: expected a value, got {value!r}")
        return _comparison(FILTER_FIELDS[selector], operator, _wildcard(value))


def _comparison(name: str, operator: str, pattern: re.Pattern[str]) -> Predicate:
    def matches(user: dict) -> bool:
        actual = (user.get("basicInfo") or {}).get(name)
        hit = isinstance(actual, str) and pattern.fullmatch(actual) is not None
        return hit if operator == "==" else not hit

    return matches


def sort_keys(text: str) -> list[tuple[str, bool]]:
    """(basicInfo field, descending) for each key of a `sort` parameter such as ``-basicInfo.lastName``."""
    keys = []
    for part in text.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.lstrip("+-")
        if name not in FILTER_FIELDS:
            raise BadQuery("Invalid sort parameter")
        keys.append((FILTER_FIELDS[name], descending))
    return keys
