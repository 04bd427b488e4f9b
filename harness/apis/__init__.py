"""Reference behaviour, one package per API (the server half of its plugin; see `harness.plugins`).

Each package exposes `PLUGIN`, an `harness.plugins.ApiPlugin`, named by an entry point of the `harness.apis`
group; `shared.py` holds the handlers the APIs share.
"""
