"""Benchmarks, load runs and the fuzz campaign: scripts run as `python -m bench.<name>` from the repo root."""
