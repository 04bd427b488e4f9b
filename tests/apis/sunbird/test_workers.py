"""`harness serve --workers 2`: workers share credentials through the store, and a restart keeps them (issue 3)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from harness import authtoken
from harness.testing.live import ProcessServer

URL = "/api/api-manager/v1/consumer/mobile_device/credential/register"
BEARER = {"Authorization": f"Bearer {authtoken.generate('mobile_app_key', 'mobile_app_secret')}"}


def register(base_url: str, key: str) -> dict[str, str]:
    # A new connection per call, so the kernel spreads the calls over both workers.
    response = httpx.post(f"{base_url}{URL}", json={"request": {"key": key}}, headers=BEARER, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["result"]


@pytest.mark.slow
def test_two_workers_share_credentials_and_a_restart_keeps_them(state_dir):
    with ProcessServer(state_dir, workers=2) as server:
        first = register(server.url, "shared-device")
        again = [register(server.url, "shared-device")["secret"] for _ in range(12)]
        assert set(again) == {first["secret"]}
        with ThreadPoolExecutor(max_workers=8) as pool:
            concurrent = list(pool.map(lambda _: register(server.url, "raced-device")["secret"], range(16)))
        assert len(set(concurrent)) == 1
        token = register(server.url, "shared-device")["token"]
        device = httpx.post(f"{server.url}/api/auth/v1/refresh/token", data={"refresh_token": "x"},
                            headers={"Authorization": f"Bearer {token}"})
        assert device.status_code == 400  # past the gateway on whichever worker: the credential is known there
    with ProcessServer(state_dir, workers=1) as restarted:
        assert register(restarted.url, "shared-device")["secret"] == first["secret"]
        assert register(restarted.url, "raced-device")["secret"] == concurrent[0]
