"""Conformance checking against any base URL. Never imports `harness.apis`: it speaks HTTP only."""
