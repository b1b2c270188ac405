from __future__ import annotations

import httpx

BASE = "/api/client/v2.0"
APP = f"{BASE}/app/latchkey-demo"


def test_anonymous_login_and_profile_in_process(client):
    resp = client.post(f"{APP}/auth/providers/anon-user/login", json={"options": {"device": {}}})
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"access_token", "refresh_token", "user_id", "device_id"}
    prof = client.get(f"{BASE}/auth/profile",
                      headers={"Authorization": f"Bearer {body['access_token']}"})
    assert prof.status_code == 200
    assert prof.json()["identities"][0]["provider_type"] == "anon-user"


def test_location_over_loopback(live_server):
    resp = httpx.get(f"{live_server.base_url}{APP}/location")
    assert resp.status_code == 200
    assert resp.json()["hostname"] == live_server.base_url
