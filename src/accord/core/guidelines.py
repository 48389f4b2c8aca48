"""The guidelines as text: their markdown sections, the section that applies to a control or a
label, a line diff between two versions, and the markdown made safe HTML."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from markdown_it import MarkdownIt
from sqlalchemy.orm import Session

from accord.core.projects import get_schema_version, list_schema_versions
from accord.db.models import Project
from accord.schema.html import sanitize_html

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def to_html(markdown: str) -> str:
    """Guidelines and notes as HTML: raw HTML in the markdown is not rendered, and the result is
    sanitised again (images keep their address: uploaded ones are served to members only)."""
    return sanitize_html(_MARKDOWN.render(markdown or ""))


@dataclass(frozen=True)
class Section:
    heading: str
    text: str
    level: int


def sections(markdown: str) -> list[Section]:
    """The guidelines cut at their ATX headings (``#`` to ``######``; headings inside fenced
    code do not count). Text before the first heading is a section with an empty heading."""
    found: list[Section] = []
    heading, level, body = "", 0, list[str]()
    fence: str | None = None
    for line in (markdown or "").splitlines():
        marker = _FENCE.match(line)
        if marker:
            if fence is None:
                fence = marker.group(1)[:3]
            elif marker.group(1).startswith(fence):
                fence = None
        match = _HEADING.match(line) if fence is None and not marker else None
        if match:
            if heading or "".join(body).strip():
                found.append(Section(heading, "\n".join(body).strip(), level))
            heading, level, body = match.group(2).strip(), len(match.group(1)), []
        else:
            body.append(line)
    if heading or "".join(body).strip():
        found.append(Section(heading, "\n".join(body).strip(), level))
    return found


def _names(text: str, words: Iterable[str]) -> bool:
    for word in words:
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
            return True
    return False


def section_for(markdown: str, control: str, labels: Iterable[str]) -> Section | None:
    """The section that applies to an answer of ``control`` whose correct labels are
    ``labels``: the first whose heading names a label, else whose heading names the control,
    else whose text names a label, else whose text names the control. Nested labels
    (``animal/dog``) are also looked for by their last part."""
    wanted = set()
    for label in labels:
        wanted.add(label)
        wanted.add(label.rsplit("/", 1)[-1])
    spoken = {control, control.replace("_", " ")}
    parts = sections(markdown)
    for in_heading, words in ((True, wanted), (True, spoken), (False, wanted), (False, spoken)):
        for section in parts:
            if _names(section.heading if in_heading else section.text, words):
                return section
    return None


@dataclass(frozen=True)
class DiffLine:
    op: str  # "=" unchanged, "-" only in the older version, "+" only in the newer one
    text: str
    old: int | None  # line numbers, from 1
    new: int | None


@dataclass(frozen=True)
class VersionChange:
    version: int
    change_note: str
    requires_recalibration: bool


@dataclass(frozen=True)
class GuidelinesDiff:
    from_version: int
    to_version: int
    changes: list[VersionChange]  # every version after ``from_version`` up to ``to_version``
    schema_changed: bool
    lines: list[DiffLine]

    @property
    def unified(self) -> str:
        marks = {"=": " ", "-": "-", "+": "+"}
        return "\n".join(f"{marks[line.op]}{line.text}" for line in self.lines)


def line_diff(old: str, new: str) -> list[DiffLine]:
    """Every line of both texts, in order, marked unchanged, removed or added."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    out: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [DiffLine("=", a[i], i + 1, j1 + k + 1) for k, i in enumerate(range(i1, i2))]
            continue
        out += [DiffLine("-", a[i], i + 1, None) for i in range(i1, i2)]
        out += [DiffLine("+", b[j], None, j + 1) for j in range(j1, j2)]
    return out


def diff_versions(
    session: Session, project: Project, from_version: int, to_version: int
) -> GuidelinesDiff:
    """What changed in the guidelines from one version to another (either order): the change
    notes of the versions in between and a line diff of the guidelines."""
    old = get_schema_version(session, project, from_version)
    new = get_schema_version(session, project, to_version)
    low, high = sorted((old.version, new.version))
    changes = [
        VersionChange(v.version, v.change_note, v.requires_recalibration)
        for v in list_schema_versions(session, project)
        if low < v.version <= high
    ]
    return GuidelinesDiff(
        from_version=old.version,
        to_version=new.version,
        changes=changes,
        schema_changed=old.schema != new.schema,
        lines=line_diff(old.guidelines, new.guidelines),
    )
