"""Governance acts and records: promotions with four-eyes sign-off, local accounts and roles, the
control matrix and the model card.
"""
