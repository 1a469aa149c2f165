"""Promotions: requests, four-eyes sign-off, alias moves and rollback."""
