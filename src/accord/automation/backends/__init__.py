"""Model backends: models that pre-label one control of a labeling schema.

Built-in kinds ``text_classifier``, ``pattern_ner`` and ``knn`` are pure Python models refitted
from the human labels; ``http`` and ``label_studio`` call external model servers. More kinds can
be added with :func:`register_backend`. See ``docs/models.md``.
"""

from accord.automation.backends.base import (
    BACKEND_KINDS,
    BackendError,
    BackendFactory,
    BackendSpec,
    Example,
    ModelBackend,
    ModelPrediction,
    Task,
    create_backend,
    register_backend,
)

__all__ = [
    "BACKEND_KINDS",
    "BackendError",
    "BackendFactory",
    "BackendSpec",
    "Example",
    "ModelBackend",
    "ModelPrediction",
    "Task",
    "create_backend",
    "register_backend",
]
