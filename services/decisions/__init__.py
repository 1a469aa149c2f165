"""The decision log: ingest, search, explanations, the review queue and overrides."""
