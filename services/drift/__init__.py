"""Drift: reference and daily profiles, statistics from binned counts, windows."""
