"""Shared signing machinery: RSA keys per state directory, JWKS, and JWT helpers. No API knowledge here."""
