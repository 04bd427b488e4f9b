"""Contract-first mock and conformance harness for the Sunbird API Manager and the eKool public API."""

__version__ = "0.1.0"
