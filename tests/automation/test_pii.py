"""PII detection: exact spans per kind, rejections, overlap rule, and the three policies."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.automation import PiiEntity, PiiKind, pii

K = PiiKind

TEXT = (
    "Contact jane.doe@example.com or +44 20 7946 0958 / (202) 555-0173.\n"
    "Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, host 192.168.0.1 or 2001:db8::1.\n"
    "Docs: https://example.com/help?id=7.\n"
    "Not PII: card 4111 1111 1111 1112, IBAN DE89 3704 0044 0532 0130 01, ip 256.1.1.1,\n"
    "date 2024-01-15, order ORD-2024-000123, amount 1234567.89, id 4815162342."
)

EXPECTED = [
    (K.EMAIL, 8, 28, "jane.doe@example.com"),
    (K.PHONE, 32, 48, "+44 20 7946 0958"),
    (K.PHONE, 51, 65, "(202) 555-0173"),
    (K.CREDIT_CARD, 72, 91, "4111 1111 1111 1111"),
    (K.IBAN, 98, 125, "DE89 3704 0044 0532 0130 00"),
    (K.IP_ADDRESS, 132, 143, "192.168.0.1"),
    (K.IP_ADDRESS, 147, 158, "2001:db8::1"),
    (K.URL, 166, 195, "https://example.com/help?id=7"),
]


def spans(text: str, **kwargs: Any) -> list[tuple[PiiKind, int, int, str]]:
    return [(e.kind, e.start, e.end, e.text) for e in pii.detect(text, **kwargs)]


def found(text: str) -> list[str]:
    return [e.text for e in pii.detect(text)]


def test_detect_every_kind_with_exact_offsets() -> None:
    assert spans(TEXT) == EXPECTED
    for _, start, end, value in EXPECTED:
        assert TEXT[start:end] == value


def test_kinds_restricts_the_search() -> None:
    assert spans(TEXT, kinds={K.PHONE}) == [e for e in EXPECTED if e[0] is K.PHONE]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a john.doe+tag@mail.example.co.uk.", ["john.doe+tag@mail.example.co.uk"]),
        ("X_Y-z%1@sub-domain.example.museum", ["X_Y-z%1@sub-domain.example.museum"]),
        ("(bob@example.org)", ["bob@example.org"]),
        ("no tld a@b.c, no dot a@localhost, no local @example.com", []),
        ("a@-bad.com a@bad-.com", []),
    ],
)
def test_email(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("UK +44 20 7946 0958.", ["+44 20 7946 0958"]),
        ("UK +44 (0)20 7946 0958", ["+44 (0)20 7946 0958"]),
        ("US +1-202-555-0173", ["+1-202-555-0173"]),
        ("DE +4915112345678", ["+4915112345678"]),
        ("FR +33 1 23 45 67 89", ["+33 1 23 45 67 89"]),
        ("US (202) 555-0173, 202-555-0173", ["(202) 555-0173", "202-555-0173"]),
        ("US 202.555.0173 or 1 202 555 0173", ["202.555.0173", "1 202 555 0173"]),
        ("UK 020 7946 0958; FR 01 23 45 67 89", ["020 7946 0958", "01 23 45 67 89"]),
        ("DE (030) 12345678", ["(030) 12345678"]),
    ],
)
def test_phone_valid(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "date 2024-01-15",
        "dates 15.01.2024 and 01/02/2024 and 01.02.2024 10:30",
        "order ORD-2024-000123 and #48213977",
        "plain 0123456789 and 4815162342 and 2025550173",
        "amount 1 234 567.89 and 1,234,567",
        "too short +44 20 and too long +44 20 7946 0958 1234 5678",
        "exchange starting with 1: 202-155-0173; area 123-555-0173",
        "continues 202-555-0173-99 and 020 7946 0958 77 1",
        "00 prefix 0044 20 7946 0958",
    ],
)
def test_phone_rejects_numbers_that_are_not_phones(text: str) -> None:
    assert pii.detect(text, kinds={K.PHONE}) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visa 4111 1111 1111 1111", ["4111 1111 1111 1111"]),
        ("visa 4111-1111-1111-1111", ["4111-1111-1111-1111"]),
        ("amex 378282246310005", ["378282246310005"]),
        (
            "mc 5555 5555 5555 4444 and 13 digits 4222222222222",
            ["5555 5555 5555 4444", "4222222222222"],
        ),
        ("luhn-invalid 4111 1111 1111 1112 and 378282246310006", []),
        ("12 digits 411111111116; 20 digits 41111111111111111113", []),
        ("leading zero 0000 0000 0000 0000", []),
        ("inside a word X4111111111111111", []),
    ],
)
def test_credit_card(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("iban GB82WEST12345698765432.", ["GB82WEST12345698765432"]),
        ("iban GB82 WEST 1234 5698 7654 32", ["GB82 WEST 1234 5698 7654 32"]),
        ("iban FR14 2004 1010 0505 0001 3M02 606", ["FR14 2004 1010 0505 0001 3M02 606"]),
        ("iban BE68 5390 0754 7034 BICX", ["BE68 5390 0754 7034"]),
        ("mod-97 invalid GB82WEST12345698765433 and DE89 3704 0044 0532 0130 01", []),
        ("lower case gb82west12345698765432", []),
    ],
)
def test_iban(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v4 0.0.0.0, 255.255.255.255.", ["0.0.0.0", "255.255.255.255"]),
        ("v6 ::1 and fe80::1 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334", None),
        ("mapped ::ffff:192.0.2.1", ["::ffff:192.0.2.1"]),
        ("bad 256.1.1.1, 1.2.3.4.5, 192.168.01.1, 1.2.3", []),
        ("not v6 10:30:00, std::vector, 1::2::3", []),
    ],
)
def test_ip_address(text: str, expected: list[str] | None) -> None:
    if expected is None:
        expected = ["::1", "fe80::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"]
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.com/a?b=1&c=2.", ["https://example.com/a?b=1&c=2"]),
        ("(see http://example.com/x)", ["http://example.com/x"]),
        ("wiki HTTPS://en.wikipedia.org/wiki/A_(b)!", ["HTTPS://en.wikipedia.org/wiki/A_(b)"]),
        ("at www.example.org, ok", ["www.example.org"]),
        ("no host https:// or www. or example.com or ftp://example.com", []),
    ],
)
def test_url(text: str, expected: list[str]) -> None:
    assert found(text) == expected


def test_overlaps_longest_wins_and_nothing_is_trimmed() -> None:
    url = "https://user@example.com/call/+44-20-7946-0958"
    assert spans(f"go {url} now") == [(K.URL, 3, 3 + len(url), url)]
    assert spans("to john@www.example.com") == [(K.EMAIL, 3, 23, "john@www.example.com")]
    assert spans("http://192.168.0.1:8080/") == [(K.URL, 0, 24, "http://192.168.0.1:8080/")]
    # Alone, the embedded parts are found; so the URL really beat them.
    assert spans("user@example.com") == [(K.EMAIL, 0, 16, "user@example.com")]
    assert spans("x 192.168.0.1") == [(K.IP_ADDRESS, 2, 13, "192.168.0.1")]


def test_flag_keeps_text_and_spans() -> None:
    result = pii.apply(TEXT, pii.detect(TEXT), "flag")
    assert result.text == TEXT
    assert [(e.kind, e.start, e.end, e.text) for e in result.entities] == EXPECTED


MASKED = (
    "Contact xxxx.xxx@xxxxxxx.xxx or +## ## #### #### / (###) ###-####.\n"
    "Card #### #### #### ####, IBAN xx## #### #### #### #### ##, host ###.###.#.# or "
    "####:xx#::#.\n"
    "Docs: xxxxx://xxxxxxx.xxx/xxxx?xx=#.\n" + TEXT.split("\n", 3)[3]
)


def test_mask_keeps_length_and_separators() -> None:
    result = pii.apply(TEXT, pii.detect(TEXT), "mask")
    assert result.text == MASKED
    assert len(result.text) == len(TEXT)
    assert [(e.kind, e.start, e.end) for e in result.entities] == [e[:3] for e in EXPECTED]
    assert [e.text for e in result.entities][:3] == [
        "xxxx.xxx@xxxxxxx.xxx",
        "+## ## #### ####",
        "(###) ###-####",
    ]
    for entity in result.entities:
        assert result.text[entity.start : entity.end] == entity.text


REDACTED = (
    "Contact [EMAIL] or [PHONE] / [PHONE].\n"
    "Card [CREDIT_CARD], IBAN [IBAN], host [IP_ADDRESS] or [IP_ADDRESS].\n"
    "Docs: [URL].\n" + TEXT.split("\n", 3)[3]
)


def test_redact_replaces_with_kind_and_moves_offsets() -> None:
    result = pii.apply(TEXT, pii.detect(TEXT), "redact")
    assert result.text == REDACTED
    assert [(e.kind, e.start, e.end, e.text) for e in result.entities] == [
        (K.EMAIL, 8, 15, "[EMAIL]"),
        (K.PHONE, 19, 26, "[PHONE]"),
        (K.PHONE, 29, 36, "[PHONE]"),
        (K.CREDIT_CARD, 43, 56, "[CREDIT_CARD]"),
        (K.IBAN, 63, 69, "[IBAN]"),
        (K.IP_ADDRESS, 76, 88, "[IP_ADDRESS]"),
        (K.IP_ADDRESS, 92, 104, "[IP_ADDRESS]"),
        (K.URL, 112, 117, "[URL]"),
    ]
    for entity in result.entities:
        assert result.text[entity.start : entity.end] == entity.text


def test_redact_is_idempotent() -> None:
    once = pii.apply(TEXT, pii.detect(TEXT), "redact")
    assert pii.detect(once.text) == []
    again = pii.apply(once.text, pii.detect(once.text), "redact")
    assert again.text == once.text
    assert pii.apply(once.text, once.entities, "redact") == once


def test_apply_accepts_entities_in_any_order() -> None:
    entities = pii.detect(TEXT)
    assert pii.apply(TEXT, entities[::-1], "redact").text == REDACTED


def test_apply_rejects_bad_input() -> None:
    email = PiiEntity(K.EMAIL, 8, 28, "jane.doe@example.com")
    with pytest.raises(ValueError, match="unknown PII policy"):
        pii.apply(TEXT, [email], "hide")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="does not match"):
        pii.apply(TEXT, [PiiEntity(K.EMAIL, 7, 27, "jane.doe@example.com")], "mask")
    with pytest.raises(ValueError, match="outside"):
        pii.apply("short", [PiiEntity(K.URL, 3, 9, "rt")], "flag")
    with pytest.raises(ValueError, match="overlaps"):
        pii.apply(TEXT, [email, PiiEntity(K.URL, 20, 28, "mple.com")], "redact")


def test_offsets_are_code_points() -> None:
    text = "été 😀 → mail ünï@example.com? no: ok@example.com 😀 +44 20 7946 0958"
    assert spans(text) == [
        (K.EMAIL, 34, 48, "ok@example.com"),
        (K.PHONE, 51, 67, "+44 20 7946 0958"),
    ]
    redacted = pii.apply(text, pii.detect(text), "redact")
    assert redacted.text == "été 😀 → mail ünï@example.com? no: [EMAIL] 😀 [PHONE]"


class FakeAnalyzer:
    def analyze(self, text: str, entities: list[str], language: str) -> list[Any]:
        assert entities == ["PERSON"]
        start = text.find("Ada Lovelace")
        return [types.SimpleNamespace(start=start, end=start + 12)] if start >= 0 else []


@pytest.fixture
def fake_presidio(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    module = types.ModuleType("presidio_analyzer")
    module.AnalyzerEngine = FakeAnalyzer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "presidio_analyzer", module)
    pii._presidio_analyzer.cache_clear()
    yield
    pii._presidio_analyzer.cache_clear()


def test_person_names_through_presidio_when_installed(fake_presidio: None) -> None:
    text = "Ada Lovelace <ada@example.com>"
    assert pii.presidio_available()
    assert spans(text, person_names=True) == [
        (K.PERSON, 0, 12, "Ada Lovelace"),
        (K.EMAIL, 14, 29, "ada@example.com"),
    ]
    assert spans(text) == [(K.EMAIL, 14, 29, "ada@example.com")]
    assert pii.apply(text, pii.detect(text, person_names=True), "redact").text == (
        "[PERSON] <[EMAIL]>"
    )


def test_person_names_without_presidio_do_not_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "presidio_analyzer", None)  # makes the import fail
    pii._presidio_analyzer.cache_clear()
    try:
        assert not pii.presidio_available()
        assert spans("Ada Lovelace, ada@example.com", person_names=True) == [
            (K.EMAIL, 14, 29, "ada@example.com")
        ]
    finally:
        pii._presidio_analyzer.cache_clear()


# Text built from PII-like fragments and noise, so the patterns are exercised near their edges.
FRAGMENTS = st.sampled_from(
    [
        "a@b.co",
        "+44 20 7946 0958",
        "(202) 555-0173",
        "4111 1111 1111 1111",
        "DE89",
        " 3704 0044 0532 0130 00",
        "192.168.0.1",
        "::1",
        "fe80::",
        "https://x.org/(",
        "www.",
        "2024-01-15",
        "0",
        "9",
        " ",
        "-",
        ".",
        ":",
        "@",
        "/",
        ")",
        "+",
        "é",
        "😀",
        "\n",
    ]
)
PII_LIKE_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(FRAGMENTS, st.text(max_size=3)), max_size=30).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(PII_LIKE_TEXT)
def test_detect_never_raises_and_offsets_slice_to_the_text(text: str) -> None:
    entities = pii.detect(text)
    assert [e.start for e in entities] == sorted(e.start for e in entities)
    previous_end = 0
    for entity in entities:
        assert previous_end <= entity.start < entity.end <= len(text)
        assert text[entity.start : entity.end] == entity.text
        previous_end = entity.end
    for policy in ("flag", "mask", "redact"):
        result = pii.apply(text, entities, policy)  # type: ignore[arg-type]
        assert [e.kind for e in result.entities] == [e.kind for e in entities]
        for entity in result.entities:
            assert result.text[entity.start : entity.end] == entity.text
    assert len(pii.apply(text, entities, "mask").text) == len(text)
