"""Background jobs: an in-process runner by default, RQ on Redis when ACCORD_REDIS_URL is set."""
