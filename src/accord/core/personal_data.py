"""Personal data in items: the project's policy (off, flag, mask, redact) applied to every string
of an item's data and metadata while it is imported, the entities stored with the item, and
their summary.

Detection is :func:`accord.automation.pii.detect` (person names only when presidio is
installed). Mask and redact are irreversible: the import stores, hashes and indexes only the
changed text, so the original never reaches the database. ``Item.pii`` lists each entity as
``{"field", "kind", "start", "end", "action"}`` with offsets in the stored text; ``field`` is the
data key, or a dotted path for nested strings (``"turns.0.text"``), or ``meta.<key>`` for the
metadata's strings (``"meta.sender"``). The entity's text itself is never stored a second time.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.automation import pii
from accord.db.models import Item, Project
from accord.errors import InvalidInput
from accord.io import ImportRecord
from accord.schema import LabelingSchema

POLICIES = ("off", "flag", "mask", "redact")
MEDIA_FIELD_TYPES = ("image", "audio", "video")
"""Schema field types whose data values are media references, never scanned."""

# Every kind the detector knows needs one of these: a digit (phones, cards, IBAN check digits,
# IPv4), "@" (emails), ":" (IPv6, "http://") or "www.". Text without any of them holds none, so
# the regular expressions run on a few percent of ordinary sentences only. (One character
# class and a substring test are twice as fast as one pattern with both.)
_HINT = re.compile(r"[0-9@:]")
# Text with a digit but neither "@" nor ":" needs more: phones have 8 digits or more, cards 13,
# an IPv4 address 4, and an IBAN starts with two capitals and two digits. So short values such
# as "sst2", "v1.2" or "row 17" (metadata, mostly) are not scanned either.
_IBAN_START = re.compile(r"[A-Z]{2}[0-9]{2}")
_DIGIT = re.compile(r"[0-9]")

Entity = dict[str, Any]


def might_hold_pii(text: str) -> bool:
    """False only when ``text`` cannot hold any entity the pattern detector finds."""
    if _HINT.search(text) is not None and (
        "@" in text
        or ":" in text
        or _IBAN_START.search(text) is not None
        or len(_DIGIT.findall(text)) >= 4
    ):
        return True
    return "www." in text.lower()


def check_policy(value: str) -> None:
    if value not in POLICIES:
        raise InvalidInput(
            f"pii_policy must be one of {', '.join(POLICIES)}",
            [{"field": "pii_policy", "rule": "choice"}],
        )


@dataclass(frozen=True)
class Scanner:
    """Finds personal data in an item's data and applies the policy (``flag``, ``mask`` or
    ``redact``). Pure and thread-safe: imports run it in their background thread."""

    policy: str
    skip_keys: frozenset[str] = frozenset()
    person_names: bool = False

    def scan(
        self, data: Mapping[str, Any], media: str | None = None
    ) -> tuple[dict[str, Any], list[Entity]]:
        """The data to store and its entities (empty when none were found). ``data`` is returned
        unchanged (the same object) under ``flag`` or when nothing was found."""
        return self._mapping(data, "", self.skip_keys, media)

    def scan_meta(
        self, meta: Mapping[str, Any], media: str | None = None
    ) -> tuple[dict[str, Any], list[Entity]]:
        """The same for an item's metadata: every string in it, the entities' ``field`` being
        ``meta.<key>`` (a dotted path below it for nested strings)."""
        return self._mapping(meta, "meta.", frozenset(), media)

    def _mapping(
        self, data: Mapping[str, Any], prefix: str, skip: frozenset[str], media: str | None
    ) -> tuple[dict[str, Any], list[Entity]]:
        found: list[Entity] = []
        out: dict[str, Any] | None = None
        for key, value in data.items():
            if key in skip:
                continue
            new = self._value(value, f"{prefix}{key}", media, found)
            if new is not value:
                if out is None:
                    out = dict(data)
                out[key] = new
        return (out if out is not None else cast(dict[str, Any], data)), found

    def _value(self, value: Any, path: str, media: str | None, found: list[Entity]) -> Any:
        if isinstance(value, str):
            return self._text(value, path, media, found)
        if isinstance(value, Mapping):
            changed: dict[str, Any] | None = None
            for key, inner in value.items():
                new = self._value(inner, f"{path}.{key}", media, found)
                if new is not inner:
                    if changed is None:
                        changed = dict(value)
                    changed[key] = new
            return changed if changed is not None else value
        if isinstance(value, list):
            items: list[Any] | None = None
            for i, inner in enumerate(value):
                new = self._value(inner, f"{path}.{i}", media, found)
                if new is not inner:
                    if items is None:
                        items = list(value)
                    items[i] = new
            return items if items is not None else value
        return value

    def _text(self, text: str, path: str, media: str | None, found: list[Entity]) -> str:
        if text == media or (not self.person_names and not might_hold_pii(text)):
            return text
        entities = pii.detect(text, person_names=self.person_names)
        if not entities:
            return text
        if self.policy != "flag":
            text, entities = pii.apply(text, entities, cast(pii.PiiPolicy, self.policy))
        found.extend(
            {"field": path, "kind": str(e.kind), "start": e.start, "end": e.end,
             "action": self.policy}
            for e in entities
        )  # fmt: skip
        return text


def scanner_for(project: Project, schema: LabelingSchema) -> Scanner | None:
    """The project's scanner, or None when its policy is ``off``. Keys of the schema's image,
    audio and video fields hold media references and are left alone."""
    if project.pii_policy in (None, "off"):
        return None
    check_policy(project.pii_policy)
    skip = frozenset(f.key for f in schema.fields.values() if f.type in MEDIA_FIELD_TYPES)
    return Scanner(project.pii_policy, skip, pii.presidio_available())


def scan_records(
    records: list[ImportRecord], scanner: Scanner | None
) -> tuple[list[ImportRecord], list[list[Entity] | None]]:
    """Records with their data and metadata as they will be stored, and each one's entities
    (None: none)."""
    if scanner is None:
        return records, [None] * len(records)
    out: list[ImportRecord] = []
    entities: list[list[Entity] | None] = []
    for record in records:
        data, found = scanner.scan(record.data, record.media)
        meta = record.meta
        if meta:
            meta, in_meta = scanner.scan_meta(meta, record.media)
            found.extend(in_meta)
        if data is not record.data or meta is not record.meta:
            record = replace(record, data=data, meta=meta)
        out.append(record)
        entities.append(found or None)
    return out, entities


@dataclass
class Tally:
    """What one import found: entities per kind and items touched (never the values)."""

    policy: str
    kinds: Counter[str] = field(default_factory=Counter)
    items: int = 0

    def add(self, found: Iterable[list[Entity] | None]) -> None:
        for entities in found:
            if entities:
                self.items += 1
                self.kinds.update(e["kind"] for e in entities)

    @property
    def changed(self) -> bool:
        """Whether mask or redact replaced anything."""
        return self.policy in ("mask", "redact") and self.items > 0

    def summary(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "items": self.items,
            "entities": dict(sorted(self.kinds.items())),
        }


# -- reading ----------------------------------------------------------------------------------


def item_entities(item: Item) -> list[Entity]:
    return list(item.pii or [])


def count_items(session: Session, project: Project) -> int:
    """Items of the project in which an import found personal data."""
    return int(
        session.scalar(
            select(func.count()).where(Item.project_id == project.id, Item.pii.is_not(None))
        )
        or 0
    )


@dataclass(frozen=True)
class PiiSummary:
    policy: str
    n_items: int
    n_items_with_pii: int
    entities: dict[str, int]
    actions: dict[str, int]


def project_summary(session: Session, project: Project) -> PiiSummary:
    """Entities per kind and per action over the project's items, and how many items hold any."""
    kinds: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    n_with = 0
    rows = session.scalars(
        select(Item.pii)
        .where(Item.project_id == project.id, Item.pii.is_not(None))
        .execution_options(yield_per=5000)
    )
    for entities in rows:
        if not entities:
            continue
        n_with += 1
        kinds.update(e["kind"] for e in entities)
        actions.update(e.get("action", "flag") for e in entities)
    total = session.scalar(select(func.count()).where(Item.project_id == project.id)) or 0
    return PiiSummary(
        project.pii_policy or "off",
        int(total),
        n_with,
        dict(sorted(kinds.items())),
        dict(sorted(actions.items())),
    )


@dataclass(frozen=True)
class Segment:
    text: str
    kind: str | None = None


def highlighted(item: Item) -> dict[str, list[Segment]]:
    """Per top-level string field holding entities: its text cut into plain and entity
    segments, for showing the entities as highlighted spans."""
    by_field: dict[str, list[Entity]] = {}
    for e in item.pii or []:
        by_field.setdefault(str(e["field"]), []).append(e)
    out: dict[str, list[Segment]] = {}
    for key, entities in by_field.items():
        value = item.data.get(key)
        if isinstance(value, str):
            out[key] = segments(value, entities)
    return out


def segments(text: str, entities: Sequence[Entity]) -> list[Segment]:
    pieces: list[Segment] = []
    cursor = 0
    for e in sorted(entities, key=lambda e: (int(e["start"]), int(e["end"]))):
        start, end = int(e["start"]), int(e["end"])
        if not cursor <= start <= end <= len(text):
            continue  # overlapping or stale offsets are shown as plain text
        if start > cursor:
            pieces.append(Segment(text[cursor:start]))
        pieces.append(Segment(text[start:end], str(e["kind"])))
        cursor = end
    if cursor < len(text):
        pieces.append(Segment(text[cursor:]))
    return pieces
