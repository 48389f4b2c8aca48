"""Fixtures shared by the API tests."""

from tests.api.crowd_project import crowd, labeled  # noqa: F401  (fixtures)
