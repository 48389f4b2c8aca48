"""Personal data (PII) in text: find it, then flag, mask or redact it.

Pure: standard library only, no database, no network. Offsets are Python string offsets
(code points), so ``text[entity.start:entity.end] == entity.text`` always holds.

What each kind matches (ASCII digits ``0-9`` only; a match never starts or ends inside a word):

- ``EMAIL``: ``local@domain.tld`` with an ASCII local part (letters, digits, ``._%+-``), dot
  separated domain labels and an alphabetic TLD of 2-63 letters. Not matched: non-ASCII local
  parts, IP-literal domains (``a@[10.0.0.1]``), a domain without a dot.
- ``PHONE``, three shapes; at least one separator (single space, ``-`` or ``.``, or parentheses
  around an area code) is required except after ``+``:

  * international: ``+`` country code and digit groups, 8-15 digits in total (E.164), an optional
    ``(0)`` trunk marker ignored in the count: ``+44 20 7946 0958``, ``+44 (0)20 7946 0958``,
    ``+1-202-555-0173``, ``+4915112345678``;
  * North American: ``(202) 555-0173``, ``202-555-0173``, ``202.555.0173``, ``202 555 0173``,
    ``1-202-555-0173``; area code and exchange start with 2-9 (NANP rules);
  * national with a trunk ``0`` (not ``00``), 9-13 digits in groups of 2-8:
    ``020 7946 0958``, ``(020) 7946 0958``, ``01 23 45 67 89``, ``030 12345678``.

  Not matched: plain digit runs without ``+`` (``0123456789``, ``4815162342``, ids, amounts),
  ISO dates and dates with a four-digit year (``2024-01-15``, ``15.01.2024``, ``01/02/2024``),
  order numbers such as ``ORD-2024-000123`` (a group glued to a word by ``-``, ``.`` or ``/``),
  ``00``-prefixed international numbers, numbers that run on into further digit groups
  (``202-555-0173-99``), and a candidate that starts right after ``digit + space``. Any id
  written exactly like a phone number (``202-555-0173``) is indistinguishable and is matched.
- ``CREDIT_CARD``: 13-19 digits, first digit 1-9, optionally grouped by single spaces or dashes,
  whose Luhn checksum is valid. Note that a plain 13-19 digit run (an order number) that happens
  to pass Luhn is matched: the checksum is the only evidence.
- ``IBAN``: upper-case country code, two check digits and 11-30 upper-case letters or digits,
  either contiguous or in the printed groups of four separated by single spaces, 15-34
  characters in all, valid ISO 7064 mod-97 checksum. If trailing groups spoil the checksum, the
  longest valid prefix ending at a group boundary is kept. Lower case is not matched; the
  per-country length registry is not checked.
- ``IP_ADDRESS``: dotted IPv4 with four decimal octets 0-255 and no leading zeros (as
  :mod:`ipaddress` accepts them); IPv6 in any form :mod:`ipaddress` accepts, including ``::``
  compression and an IPv4 tail. Version strings such as ``1.2.3.4`` are matched; ``256.1.1.1``
  and ``1.2.3.4.5`` are not.
- ``URL``: ``http://``, ``https://`` (any case) or ``www.`` followed by non-space characters;
  trailing ``.,;:!?'"*`` and unbalanced closing brackets are left out. Bare domains
  (``example.com``) and other schemes (``ftp:``, ``mailto:``) are not matched.
- ``PERSON``: only with ``detect(..., person_names=True)`` and only if the optional package
  ``presidio_analyzer`` is importable; otherwise nothing, without error. Presidio loads its
  spaCy model on first use, which is slow (and, depending on its configuration, may download it).

Overlaps are resolved greedily and deterministically: the longest candidate wins; equal lengths
go to the earlier start, then to the kind listed first in :data:`KIND_PRECEDENCE` (checksummed
kinds first). A candidate overlapping a kept one is dropped whole, never trimmed. So a URL
containing an email-like ``user@host`` part is one URL, and ``john@www.example.com`` is one EMAIL.
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, NamedTuple, get_args


class PiiKind(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CREDIT_CARD = "CREDIT_CARD"
    IBAN = "IBAN"
    IP_ADDRESS = "IP_ADDRESS"
    URL = "URL"
    PERSON = "PERSON"


KIND_PRECEDENCE: tuple[PiiKind, ...] = (
    PiiKind.CREDIT_CARD,
    PiiKind.IBAN,
    PiiKind.EMAIL,
    PiiKind.URL,
    PiiKind.IP_ADDRESS,
    PiiKind.PHONE,
    PiiKind.PERSON,
)

PiiPolicy = Literal["flag", "mask", "redact"]
POLICIES: tuple[str, ...] = get_args(PiiPolicy)


@dataclass(frozen=True, slots=True)
class PiiEntity:
    """One piece of personal data: ``text[start:end] == self.text`` in the text it refers to."""

    kind: PiiKind
    start: int
    end: int
    text: str


class PolicyResult(NamedTuple):
    """The text after a policy, and the entities with their offsets in that text."""

    text: str
    entities: list[PiiEntity]


# --- candidates -------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
    r"(?![\w-]|\.[A-Za-z0-9])"
)

# A phone candidate must not be glued to a word, nor continue a number ("4 020 ...").
_PHONE_BEFORE = r"(?<![\w+])(?<!\w[./-])(?<![0-9] )"
_PHONE_AFTER = r"(?!\w)(?![ ./-][0-9])"
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])\+[1-9][0-9]*"
    r"(?:[ .-]?\(0\)[ .-]?[0-9]+|[ .-]?\([0-9]{1,4}\)[ .-]?[0-9]+)?"
    r"(?:[ .-][0-9]+)*" + _PHONE_AFTER
)
_PHONE_NANP = re.compile(
    _PHONE_BEFORE + r"(?:1[ .-])?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .-])"
    r"[2-9][0-9]{2}[ .-][0-9]{4}" + _PHONE_AFTER
)
_PHONE_NATIONAL = re.compile(
    _PHONE_BEFORE + r"(?:\(0[1-9][0-9]{0,3}\) ?|0[1-9][0-9]{0,3}[ .-])"
    r"[0-9]{2,8}(?:[ .-][0-9]{2,8})*" + _PHONE_AFTER
)
_DATE_PREFIX = re.compile(
    r"(?:[0-9]{1,2}([./-])[0-9]{1,2}\1[0-9]{4}|[0-9]{4}([./-])[0-9]{1,2}\2[0-9]{1,2})(?![0-9])"
)

_CARD = re.compile(r"(?<![\w+-])(?<![0-9][ -])[1-9](?:[ -]?[0-9]){12,18}(?!\w)(?![ -][0-9])")

_IBAN = re.compile(
    r"(?<!\w)[A-Z]{2}[0-9]{2}"
    r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4})+(?: [A-Z0-9]{1,3})?)(?!\w)"
)

_IPV4 = re.compile(r"(?<![\w.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\w|\.[0-9])")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|[0-9A-Fa-f]{1,4})?"
    r"(?![\w:]|\.[0-9A-Za-z])"
)

_URL = re.compile(r"(?<![\w@.])(?:(?i:https?://)|(?i:www\.)[A-Za-z0-9-]+\.)[^\s<>\"]+")
_URL_TRAILING = ".,;:!?'\"*"
_URL_BRACKETS = {")": "(", "]": "[", "}": "{"}

_Span = tuple[int, int]


def _digits(s: str) -> str:
    return "".join(c for c in s if "0" <= c <= "9")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(compact: str) -> bool:
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _emails(text: str) -> Iterator[_Span]:
    for m in _EMAIL.finditer(text):
        yield m.span()


def _phones(text: str) -> Iterator[_Span]:
    for m in _PHONE_INTERNATIONAL.finditer(text):
        if 8 <= len(_digits(m.group().replace("(0)", ""))) <= 15:
            yield m.span()
    for pattern, low, high in ((_PHONE_NANP, 10, 11), (_PHONE_NATIONAL, 9, 13)):
        for m in pattern.finditer(text):
            if low <= len(_digits(m.group())) <= high and not _DATE_PREFIX.match(m.group()):
                yield m.span()


def _cards(text: str) -> Iterator[_Span]:
    for m in _CARD.finditer(text):
        if _luhn_ok(_digits(m.group())):
            yield m.span()


def _ibans(text: str) -> Iterator[_Span]:
    for m in _IBAN.finditer(text):
        start, end = m.span()
        # Longest first; shorter ends only at group boundaries (before a space).
        ends = [end] + [start + i for i in range(end - start - 1, 0, -1) if m.group()[i] == " "]
        for stop in ends:
            if _iban_ok(text[start:stop].replace(" ", "")):
                yield start, stop
                break


def _ip_addresses(text: str) -> Iterator[_Span]:
    for m in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        yield m.span()
    for m in _IPV6.finditer(text):
        try:
            ipaddress.IPv6Address(m.group())
        except ValueError:
            continue
        yield m.span()


def _url_end(url: str) -> int:
    """Length of ``url`` without trailing punctuation and unbalanced closing brackets."""
    end = len(url)
    while end:
        last = url[end - 1]
        unbalanced = last in _URL_BRACKETS and url.count(last, 0, end) > url.count(
            _URL_BRACKETS[last], 0, end
        )
        if last not in _URL_TRAILING and not unbalanced:
            break
        end -= 1
    return end


def _urls(text: str) -> Iterator[_Span]:
    for m in _URL.finditer(text):
        url = m.group()
        end = _url_end(url)
        prefix = 4 if url[:4].lower() == "www." else url.index("//") + 2
        if end > prefix and any(c.isalnum() for c in url[prefix:end]):
            yield m.start(), m.start() + end


_FINDERS = {
    PiiKind.EMAIL: _emails,
    PiiKind.PHONE: _phones,
    PiiKind.CREDIT_CARD: _cards,
    PiiKind.IBAN: _ibans,
    PiiKind.IP_ADDRESS: _ip_addresses,
    PiiKind.URL: _urls,
}


# --- optional person names (presidio) ---------------------------------------------------------


@functools.cache
def _presidio_analyzer() -> Any | None:
    try:
        module = importlib.import_module("presidio_analyzer")
    except ImportError:
        return None
    return module.AnalyzerEngine()


def presidio_available() -> bool:
    """Whether the optional ``presidio_analyzer`` package can be imported (PERSON detection)."""
    try:
        importlib.import_module("presidio_analyzer")
    except ImportError:
        return False
    return True


def _person_names(text: str) -> Iterator[_Span]:
    analyzer = _presidio_analyzer()
    if analyzer is None:
        return
    for result in analyzer.analyze(text=text, entities=["PERSON"], language="en"):
        start, end = int(result.start), int(result.end)
        if 0 <= start < end <= len(text):
            yield start, end


# --- detect and apply -------------------------------------------------------------------------


def _resolve(candidates: set[tuple[PiiKind, int, int]]) -> list[tuple[PiiKind, int, int]]:
    rank = {kind: i for i, kind in enumerate(KIND_PRECEDENCE)}
    ordered = sorted(candidates, key=lambda c: (c[1] - c[2], c[1], rank[c[0]]))
    kept: list[tuple[PiiKind, int, int]] = []
    for kind, start, end in ordered:
        if all(end <= s or start >= e for _, s, e in kept):
            kept.append((kind, start, end))
    return sorted(kept, key=lambda c: c[1])


def detect(
    text: str,
    *,
    kinds: Collection[PiiKind] | None = None,
    person_names: bool = False,
) -> list[PiiEntity]:
    """Personal data in ``text``, non-overlapping and sorted by start (see the module doc).

    ``kinds`` restricts the search (overlaps are then resolved among those kinds only).
    ``person_names`` adds PERSON entities when presidio is installed, and is ignored otherwise.
    """
    wanted = set(PiiKind) if kinds is None else set(kinds)
    candidates: set[tuple[PiiKind, int, int]] = set()
    for kind, finder in _FINDERS.items():
        if kind in wanted:
            candidates.update((kind, start, end) for start, end in finder(text))
    if person_names and PiiKind.PERSON in wanted:
        candidates.update((PiiKind.PERSON, start, end) for start, end in _person_names(text))
    return [PiiEntity(kind, s, e, text[s:e]) for kind, s, e in _resolve(candidates)]


def mask(value: str) -> str:
    """Same length as ``value``: digits become ``#``, other letters and digits ``x``, the rest
    (separators such as ``+ - . @ : / ( )`` and spaces) is kept, so the shape stays readable."""
    return "".join("#" if "0" <= c <= "9" else "x" if c.isalnum() else c for c in value)


def _replacement(entity: PiiEntity, policy: str) -> str:
    if policy == "mask":
        return mask(entity.text)
    if policy == "redact":
        return f"[{entity.kind}]"
    return entity.text


def apply(text: str, entities: Collection[PiiEntity], policy: PiiPolicy) -> PolicyResult:
    """Apply ``policy`` to ``entities`` of ``text``.

    ``flag`` leaves the text unchanged; ``mask`` replaces each entity by :func:`mask` of it (same
    length, so offsets do not move); ``redact`` replaces each entity by ``[KIND]``. The returned
    entities carry their offsets and text in the new text. Raises ``ValueError`` for an unknown
    policy, or entities that overlap or do not slice to their text in ``text``.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown PII policy {policy!r}; expected one of {POLICIES}")
    ordered = sorted(entities, key=lambda e: (e.start, e.end))
    pieces: list[str] = []
    moved: list[PiiEntity] = []
    cursor = 0
    length = 0
    for entity in ordered:
        if not 0 <= entity.start <= entity.end <= len(text):
            raise ValueError(f"entity {entity} lies outside the text")
        if text[entity.start : entity.end] != entity.text:
            raise ValueError(f"entity {entity} does not match the text at its offsets")
        if entity.start < cursor:
            raise ValueError(f"entity {entity} overlaps the previous entity")
        kept = text[cursor : entity.start]
        new = _replacement(entity, policy)
        start = length + len(kept)
        pieces += (kept, new)
        moved.append(PiiEntity(entity.kind, start, start + len(new), new))
        length = start + len(new)
        cursor = entity.end
    pieces.append(text[cursor:])
    return PolicyResult("".join(pieces), moved)
