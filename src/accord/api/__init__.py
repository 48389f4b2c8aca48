"""The REST API under /api/v1: thin handlers over accord.core."""
