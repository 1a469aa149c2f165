"""The governance store: SQLAlchemy models, the engine and the one transaction helper, migrations,
bulk writes, the workspace marker.
"""
