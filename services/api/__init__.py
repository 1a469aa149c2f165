"""The HTTP ingest service (`govern api`): serving systems post decisions and outcomes."""
