"""The decision log: ingest, validation, daily counts and profiles, search, the case file,
explanations, the review queue and overrides.
"""
