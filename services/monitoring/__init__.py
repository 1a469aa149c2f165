"""Watching served models: drift from daily profiles, fairness over time, health per day, pillar
assessment, the portfolio, the monitor run and its alerts.
"""
