"""The MLflow registry: the one adapter (MLflow objects never leave it), the governance contract,
the inventory and alias history.
"""
