"""server.embedded.start_server: a real uvicorn on a free port, driven over real HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from server.embedded import start_server
from tests.server.fake_device import FakeDevice, http_post
from tests.server.test_sync import BIRTH


def test_embedded_server_over_http(tmp_path: Path) -> None:
    with start_server(f"sqlite:///{tmp_path / 's.db'}") as running:
        assert running.url.startswith("http://127.0.0.1:")
        health = httpx.get(running.url + "/health", timeout=10).json()
        assert health["ok"] is True
        code = running.server.issue_code("02701")  # type: ignore[attr-defined]
        with httpx.Client(timeout=30) as client:
            a = FakeDevice(http_post(running.url, client))
            b = FakeDevice(http_post(running.url, client))
            a.enrol(code)
            b.enrol(running.server.issue_code("02701"))  # type: ignore[attr-defined]
            rid = a.create(dict(BIRTH))
            assert a.sync()["results"][0]["status"] == "applied"
            b.sync()
            assert b.records[rid]["values"] == a.records[rid]["values"]
            resp = client.post(running.url + "/sync", content=b"garbage")
            assert resp.status_code == 400 and resp.json()["code"] == "bad_envelope"
    try:
        httpx.get(running.url + "/health", timeout=2)
    except httpx.HTTPError:
        pass
    else:
        raise AssertionError("server still answering after stop()")
