"""Helpers for test suites: ours and our users' (pytest plugin, live servers, in-process mock)."""
