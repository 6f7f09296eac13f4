"""Shared pieces of the campaigns: server processes, databases, devices, invariants.

The server process, database and device helpers come from the sync tests' fixtures module
(``tests/sync/conftest.py``) so that the campaigns start servers exactly as the tests do; the
pieces that there are pytest fixtures (fresh databases, enrolled devices) are plain functions
here, and :func:`campaign_rig` sets up and tears down what every campaign runs on.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.store.store import Store
from desktop.sync.client import TransportPolicy
from desktop.sync.engine import SyncEngine
from tests.sync.conftest import (
    COMMUNE,
    PASSWORD,
    PG_URL,
    Device,
    ServerDb,
    ServerProcess,
    pg_admin,
    pg_available,
    server_changes,
    server_records,
)

__all__ = [
    "COMMUNE",
    "PASSWORD",
    "ROOT",
    "CampaignFailure",
    "CampaignRig",
    "Device",
    "ServerDb",
    "ServerProcess",
    "campaign_rig",
    "change_log_problems",
    "check_change_log",
    "check_matches_server",
    "check_nothing_lost",
    "device_records",
    "make_db",
    "make_device",
    "open_device",
    "server_changes",
    "server_records",
    "settle",
]

ROOT = Path(__file__).resolve().parents[2]

#: Quick retries: a real backoff would make each trial take seconds.
FAST_POLICY = TransportPolicy(
    connect_timeout_s=3, read_base_s=5, backoff_base_s=0.01, backoff_max_s=0.05, max_attempts=4
)


class CampaignFailure(AssertionError):
    """An invariant did not hold after a trial (the message says which and where)."""


def fast_kdf() -> None:
    """Use a cheap scrypt for campaign profiles (the cost is recorded per key slot)."""
    os.environ["MOTCUA_SCRYPT_LOG2N"] = "10"


class Workspace:
    """A campaign's working folder: the one given, or a temporary one removed by ``cleanup``."""

    def __init__(self, prefix: str, workdir: Path | None) -> None:
        """Use ``workdir`` (created if missing), or make a temporary folder named ``prefix…``."""
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix=prefix) if workdir is None else None
        self.path = Path(self._tmp.name) if self._tmp is not None else Path(workdir or ".")
        self.path.mkdir(parents=True, exist_ok=True)

    def cleanup(self) -> None:
        """Remove the folder if it is a temporary one; keep a folder the caller chose."""
        if self._tmp is not None:
            self._tmp.cleanup()


def make_db(backend: str, workdir: Path, prefix: str = "motcua_campaign_") -> ServerDb:
    """Return a fresh, empty server database on ``backend`` (``sqlite`` or ``postgresql``).

    Raises:
        RuntimeError: PostgreSQL was asked for and does not answer on 127.0.0.1:5432.
    """
    if backend == "sqlite":
        path = workdir / "server.db"
        return ServerDb("sqlite", f"sqlite:///{path}", path=path)
    if not pg_available():
        raise RuntimeError("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = prefix + secrets.token_hex(5)
    pg_admin(f"CREATE DATABASE {name}")
    return ServerDb("postgresql", PG_URL.format(name=name), name=name)


@dataclass
class CampaignRig:
    """What a campaign runs on: its working folder, a fresh server database, a running server.

    Attributes:
        backend: ``sqlite`` or ``postgresql``.
        work: the working folder (profiles, the SQLite database, server logs).
        db: the server's database.
        server: the server process, started.
        started: ``time.monotonic()`` when the campaign began.
    """

    backend: str
    work: Path
    db: ServerDb
    server: ServerProcess
    started: float

    def summary(self, campaign: str, figures: Mapping[str, Any]) -> dict[str, Any]:
        """Return the campaign's summary: its name and backend, its figures, the time taken."""
        return {
            "campaign": campaign,
            "backend": self.backend,
            **figures,
            "failures": 0,
            "seconds": round(time.monotonic() - self.started, 1),
        }


@contextmanager
def campaign_rig(prefix: str, backend: str, workdir: Path | None) -> Iterator[CampaignRig]:
    """Set up a campaign (cheap KDF, working folder, fresh database, started server).

    The server is stopped, the database dropped and a temporary folder removed on the way out,
    whether the campaign held or failed.

    Args:
        prefix: the name prefix of a temporary working folder.
        backend: ``sqlite`` or ``postgresql``.
        workdir: a folder to work in (kept afterwards), or None for a temporary one.
    """
    fast_kdf()
    started = time.monotonic()
    workspace = Workspace(prefix, workdir)
    try:
        db = make_db(backend, workspace.path)
        server = ServerProcess(db, workspace.path)
        try:
            server.start()
            yield CampaignRig(backend, workspace.path, db, server, started)
        finally:
            server.stop()
            db.drop()
    finally:
        workspace.cleanup()


def _engine(store: Store, policy: TransportPolicy) -> SyncEngine:
    return SyncEngine(store, policy=policy, sleep=lambda s: time.sleep(min(s, 0.05)))


def make_device(
    server: ServerProcess,
    profile: Path,
    name: str,
    *,
    commune: str = COMMUNE,
    url: str | None = None,
    policy: TransportPolicy = FAST_POLICY,
) -> Device:
    """Create a profile at ``profile``, enrol it with ``server`` (or via ``url``); return it."""
    store = Store.create(
        profile, commune=commune, username="lan", password=PASSWORD, full_name="Lò Thị Lan"
    )
    engine = _engine(store, policy)
    engine.enrol(url or server.url, server.enrol_code(commune), label=f"PC {name}")
    return Device(name, store, engine, profile)


def open_device(profile: Path, name: str, policy: TransportPolicy = FAST_POLICY) -> Device:
    """Open an existing, enrolled profile (after a crash, say) with a fresh engine."""
    store = Store.open(profile, "lan", PASSWORD)
    return Device(name, store, _engine(store, policy), profile)


def device_records(device: Device) -> dict[str, dict[str, Any]]:
    """Return the device's dossiers by id (the same shape as :func:`server_records`)."""
    return {d.id: d.record for d in device.store.iter_dossiers()}


def settle(devices: Iterable[Device], passes: int = 8) -> None:
    """Sync every device until one whole pass moves nothing.

    Raises:
        CampaignFailure: a sync failed on a sound link, or the devices never settle.
    """
    devices = list(devices)
    for _ in range(passes):
        moved = 0
        for device in devices:
            report = device.sync()
            if not report.ok:
                raise CampaignFailure(f"{device.name}: sync failed on a sound link: {report.error}")
            moved += report.pushed + report.pulled + report.deferred
        if moved == 0:
            return
    raise CampaignFailure("devices did not settle")


def diff_records(
    local: dict[str, dict[str, Any]], remote: dict[str, dict[str, Any]], limit: int = 5
) -> str:
    """Describe how two record sets differ (for a failure message)."""
    lines = []
    for key in sorted(set(local) | set(remote)):
        a, b = local.get(key), remote.get(key)
        if a == b:
            continue
        if a is None or b is None:
            lines.append(f"{key}: only on {'server' if a is None else 'device'}")
        else:
            diff = {f: (a.get(f), b.get(f)) for f in set(a) | set(b) if a.get(f) != b.get(f)}
            lines.append(f"{key}: device/server {json.dumps(diff, ensure_ascii=False)}")
        if len(lines) >= limit:
            break
    return "; ".join(lines)


def check_matches_server(device: Device, remote: dict[str, dict[str, Any]], *, when: str) -> None:
    """Check that a device holds exactly the server's records and has nothing pending.

    Args:
        device: the device to check.
        remote: the server's records (:func:`server_records`).
        when: when the check runs, for the message (``after a clean sync``).

    Raises:
        CampaignFailure: the records differ, or changes are still pending.
    """
    local = device_records(device)
    if local != remote:
        raise CampaignFailure(f"{device.name} != server: " + diff_records(local, remote))
    if device.engine.status().pending:
        raise CampaignFailure(f"{device.name}: changes pending {when}")


def check_nothing_lost(registered: set[str], remote: dict[str, dict[str, Any]]) -> None:
    """Check that every dossier the devices registered is on the server.

    Raises:
        CampaignFailure: some registered dossier is missing (the first three are named).
    """
    lost = registered - set(remote)
    if lost:
        raise CampaignFailure(f"dossiers lost: {sorted(lost)[:3]}")


def check_change_log(db: ServerDb) -> None:
    """Check the server's change log (see :func:`change_log_problems`).

    Raises:
        CampaignFailure: the log is not sound (every problem is named).
    """
    problems = change_log_problems(db)
    if problems:
        raise CampaignFailure("; ".join(problems))


def change_log_problems(db: ServerDb) -> list[str]:
    """Check the server's change log; return what is wrong (empty when sound).

    * each device change is logged once: (device_id, device_seq) and change_id unique;
    * the server sequence is gap-free (1, 2, 3, …);
    * record versions are consistent: each record's stored versions (``record_versions``)
      run 1, 2, 3 …, the record (``records``) is at its last one, and no version number of a
      record was made by two logged changes (``changes.new_version``).
    """
    from sqlalchemy import create_engine, text

    problems: list[str] = []
    changes = server_changes(db)
    logged = [c for c in changes if c[4] == "change"]
    keys = Counter((c[0], c[1]) for c in logged)
    twice = [k for k, n in keys.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} device changes logged twice, e.g. {twice[:3]}")
    ids = Counter(c[2] for c in logged)
    if any(n > 1 for n in ids.values()):
        problems.append("a change_id is logged twice")
    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            seqs = [r[0] for r in conn.execute(text("SELECT server_seq FROM changes ORDER BY 1"))]
            if seqs != list(range(1, len(seqs) + 1)):
                gaps = [b for a, b in zip(seqs, seqs[1:]) if b != a + 1]
                problems.append(f"server_seq not gap-free ({len(seqs)} rows; first gap {gaps[:1]})")
            versions = conn.execute(
                text("SELECT entity_id, version FROM record_versions ORDER BY entity_id, version")
            ).all()
            records = {
                r[0]: int(r[1])
                for r in conn.execute(text("SELECT entity_id, version FROM records"))
            }
            logged_versions = Counter(
                (r[0], int(r[1]))
                for r in conn.execute(
                    text("SELECT entity_id, new_version FROM changes WHERE new_version IS NOT NULL")
                )
            )
    finally:
        engine.dispose()
    per_record: dict[str, list[int]] = {}
    for entity_id, version in versions:
        per_record.setdefault(entity_id, []).append(int(version))
    bad = [e for e, v in per_record.items() if v != list(range(1, len(v) + 1))]
    if bad:
        problems.append(
            f"{len(bad)} records with versions not 1..n, e.g. {bad[0]}: {per_record[bad[0]]}"
        )
    stale = [e for e, v in records.items() if per_record.get(e, [0])[-1] != v]
    if stale:
        e = stale[0]
        problems.append(
            f"{len(stale)} records whose version is not their last stored version, "
            f"e.g. {e}: {records[e]} vs {per_record.get(e)}"
        )
    twice_v = [k for k, n in logged_versions.items() if n > 1]
    if twice_v:
        problems.append(f"{len(twice_v)} record versions made by two changes, e.g. {twice_v[0]}")
    return problems
