"""The demo workspace: real models in a real MLflow registry and a realistic decision log."""
