"""Runtime settings of the reference server, passed to uvicorn workers through one environment variable."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs

ENV_VAR = "HARNESS_SETTINGS"


_LOCAL_BINDS = ("127.0.0.1", "localhost", "0.0.0.0", "::", "::1", "")


def default_state_dir() -> Path:
    return Path(platformdirs.user_data_dir("sunbird-ekool-harness"))


@dataclass(frozen=True)
class Settings:
    state_dir: Path = field(default_factory=default_state_dir)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    auto_login: str | None = None
    log_level: str = "info"
    validate_responses: bool = False
    # Answer the plugins' hot operations in `harness.fastpath` (off: every request goes through connexion).
    fast_path: bool = True
    # Sunbird gateway: requests per credential per minute (Kong's rate-limiting plugin); 0 disables it.
    rate_limit_per_minute: int = 0
    # Token and code lifetimes in seconds by the names the plugins declare (`ApiPlugin.lifetimes`); a name
    # missing here has the plugin's default.
    lifetimes: dict[str, float] = field(default_factory=dict)
    # A `--config` file's data (`harness.userdata`): start from the demo data or from nothing, and each API's
    # parsed entries; `config_file` names the file.
    include_demo: bool = True
    api_data: dict[str, dict] = field(default_factory=dict)
    config_file: str = ""
    # eKool access tokens' iat/nbf/exp: microseconds as lcobucci/jwt 4-5 writes them (default), or whole seconds.
    ekool_integer_timestamps: bool = False
    # CORS for browser apps on other origins (`harness.cors`): on; `cors_origins` empty allows every origin.
    cors: bool = True
    cors_origins: tuple[str, ...] = ()
    # Milliseconds added to every API answer (`--latency`); faults add their own (`harness.faults`).
    latency_ms: int = 0
    # Keep the request journal (`GET /__harness/requests`): one store write per API request.
    journal: bool = True
    # Signs the eKool browser session cookie; derived from the state dir's secret when empty.
    session_secret: str = ""
    # `--store postgresql://…`: the state in PostgreSQL, shared by instances (`harness.store_postgres`); empty:
    # the SQLite file of `state_dir`.
    store_url: str = ""
    # `--public-url`: the one address clients use for every instance (a load balancer's), in issuers a client
    # checks (Keycloak's hostname setting); empty: this instance's own http://host:port.
    public_url: str = ""

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def public_base_url(self) -> str:
        return self.public_url.rstrip("/") or self.base_url

    @property
    def own_origins(self) -> tuple[str, ...]:
        """Where a browser reaches this server: the public URL, and http://host:port under the names of the
        address it listens on (a loopback or wildcard address: localhost and 127.0.0.1)."""
        names = ("localhost", "127.0.0.1") if self.host in _LOCAL_BINDS else (self.host,)
        own = [f"http://{name}:{self.port}" for name in names]
        return tuple(dict.fromkeys([self.public_url.rstrip("/"), *own] if self.public_url else own))

    def to_env(self) -> str:
        data = asdict(self)
        data["state_dir"] = str(self.state_dir)
        return json.dumps(data)

    @classmethod
    def from_env(cls) -> Settings:
        raw = os.environ.get(ENV_VAR)
        if not raw:
            return cls()
        data = json.loads(raw)
        data["state_dir"] = Path(data["state_dir"])
        data["cors_origins"] = tuple(data.get("cors_origins", ()))
        return cls(**data)
