"""Domain exceptions, raised below the API and mapped to HTTP in one place (api/errors.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class AccordError(Exception):
    """Base of every error that Accord reports to a user as one clear message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AccordError):
    """The object does not exist, or the caller may not know that it exists."""


class Forbidden(AccordError):
    """The caller is known but lacks the role for this action."""


class Unauthorized(AccordError):
    """No valid credentials were given."""


class Conflict(AccordError):
    """The request clashes with the current state (duplicate name, lease lost, ...)."""


class QuotaReached(AccordError):
    """An annotator gave today's quota of answers on a project."""


class InvalidInput(AccordError):
    """A request or a file is malformed; ``details`` says where."""

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


@dataclass(frozen=True)
class ResultProblem:
    """One reason why an annotation result breaks the schema."""

    control: str | None
    rule: str
    message: str
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "rule": self.rule,
            "message": self.message,
            "path": self.path,
        }


@dataclass
class InvalidResult(AccordError):
    """An annotation result does not satisfy the project's labeling schema."""

    problems: list[ResultProblem] = field(default_factory=list)
    item_id: int | None = None

    def __post_init__(self) -> None:
        first = self.problems[0] if self.problems else None
        text = f"{first.control}: {first.message} ({first.rule})" if first else "invalid result"
        super().__init__(text)


class TooLarge(InvalidInput):
    """An uploaded file is over a size limit; ``details`` names the field and the limit."""


class SchemaError(InvalidInput):
    """A labeling schema document is invalid; ``details`` lists each problem with its location."""


class ImportRowError(InvalidInput):
    """A row of an import file is malformed; the whole import is aborted."""

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(f"row {row}: {reason}", [{"row": row, "reason": reason}])
        self.row = row
        self.reason = reason
