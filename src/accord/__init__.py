"""Accord: an open-source data annotation platform."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Client", "__version__"]

if TYPE_CHECKING:
    from accord.sdk import Client


def __getattr__(name: str) -> Any:
    # The SDK is loaded on first use so that `import accord` stays light for the server and CLI.
    if name == "Client":
        from accord.sdk import Client

        return Client
    raise AttributeError(name)
