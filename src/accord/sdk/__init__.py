"""Python SDK: ``accord.Client(url, token)``."""

from accord.sdk.client import AccordAPIError, Client

__all__ = ["AccordAPIError", "Client"]
