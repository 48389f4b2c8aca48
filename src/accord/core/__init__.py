"""The domain: plain typed functions taking a Session. Nothing here imports the API layer."""
