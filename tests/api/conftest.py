"""Fixtures shared by the API tests."""

import pytest

from tests.api.crowd_project import crowd, labeled  # noqa: F401  (fixtures)
from tests.conftest import Actor, Factory


@pytest.fixture()
def team(factory: Factory) -> dict[str, Actor]:
    """A manager, a reviewer and an annotator, for projects that want one of each."""
    return {"manager": factory.user(), "reviewer": factory.user(), "annotator": factory.user()}
