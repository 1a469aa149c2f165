"""The `govern` command."""
