"""Reading a backend's ``config`` with one precise error per bad key (``config.<key>``)."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from accord.automation.backends.base import BackendError


class Options:
    """Typed access to a config mapping. Unknown keys are refused, so a misspelt setting is an
    error rather than a silently ignored default."""

    def __init__(self, config: Any, allowed: Collection[str], prefix: str = "config") -> None:
        if config is None:
            config = {}
        if not isinstance(config, Mapping):
            raise BackendError(f"{prefix} must be an object", field=prefix, rule="type")
        for key in config:
            if key not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise BackendError(
                    f"{prefix}.{key} is not a setting of this backend (settings: {known})",
                    field=f"{prefix}.{key}",
                    rule="unknown",
                )
        self.config = config
        self.prefix = prefix

    def where(self, key: str) -> str:
        return f"{self.prefix}.{key}"

    def fail(self, key: str, rule: str, message: str) -> BackendError:
        return BackendError(f"{self.where(key)}: {message}", field=self.where(key), rule=rule)

    def required(self, key: str) -> Any:
        value = self.config.get(key)
        if value is None or value == "":
            raise self.fail(key, "required", "is required")
        return value

    def number(
        self, key: str, default: float, *, above: float | None = None, at_least: float | None = None
    ) -> float:
        value = self.config.get(key, default)
        if value is None:
            value = default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(key, "type", "must be a number")
        if above is not None and not value > above:
            raise self.fail(key, "range", f"must be greater than {above:g}")
        if at_least is not None and value < at_least:
            raise self.fail(key, "range", f"must be at least {at_least:g}")
        return float(value)

    def integer(
        self, key: str, default: int, *, at_least: int = 1, at_most: int | None = None
    ) -> int:
        value = self.config.get(key, default)
        if value is None:
            value = default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "type", "must be a whole number")
        if value < at_least:
            raise self.fail(key, "range", f"must be at least {at_least}")
        if at_most is not None and value > at_most:
            raise self.fail(key, "range", f"must be at most {at_most}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.config.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "type", "must be true or false")
        return value

    def choice(self, key: str, default: Any, options: Collection[Any]) -> Any:
        value = self.config.get(key, default)
        if value not in options:
            shown = ", ".join("null" if o is None else repr(o) for o in options)
            raise self.fail(key, "choice", f"must be one of {shown}, not {value!r}")
        return value

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.config.get(key, default)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, "type", "must be a string")
        return value

    def string_map(self, key: str) -> dict[str, str]:
        value = self.config.get(key) or {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self.fail(key, "type", "must be an object of string values")
        return dict(value)

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.config.get(key) or {}
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise self.fail(key, "type", "must be an object")
        return dict(value)
