"""Property: whatever order pages and answers arrive in, a field ends with the server's value.

The server's history of one field is a sequence of changes numbered by ``server_seq``: some by
other PCs (pulled), some by this PC (answered ``applied``), some of this PC's edits refused
(``conflict``). Pages arrive in order but late; answers arrive whenever. Once everything has
arrived and nothing is pending, the local value must be the value of the highest-numbered
change the server applied — the server's own value.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.store.store import Store
from desktop.store.sync_page import SyncPage
from tests.forms.samples import RECEIVED
from tests.store.conftest import PASSWORD
from tests.store.factory import birth

COMMUNE = "02701"
FIELD = "so_ban_sao"
KEY = "data." + FIELD
VALUES = ["1", "2", "3", "4", "5"]

# One step of history: ("other", value) pulled later, ("own", value, "applied"|"conflict").
event = st.one_of(
    st.tuples(st.just("other"), st.sampled_from(VALUES)),
    st.tuples(st.just("own"), st.sampled_from(VALUES), st.sampled_from(["applied", "conflict"])),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(event, min_size=1, max_size=8), lag=st.data())
def test_the_field_ends_with_the_servers_latest_value(
    history: list[tuple[Any, ...]], lag: st.DataObject, monkeypatch: Any
) -> None:
    monkeypatch.setenv("MOTCUA_SCRYPT_LOG2N", "10")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.create(
            Path(tmp) / "p", commune=COMMUNE, username="lan", password=PASSWORD, full_name="Lan"
        )
        try:
            _run(store, history, lag)
        finally:
            store.close()


def _apply(store: Store, **page: Any) -> None:
    page.setdefault("synced_at", "2026-11-26T10:00:00+07:00")
    page.setdefault("epoch", "e1")
    page.setdefault("max_device_seq", 10**6)
    store.sync.apply_page(SyncPage(**page))


def _run(store: Store, history: list[tuple[Any, ...]], lag: st.DataObject) -> None:
    record = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    (create,) = store.pending_changes()
    _apply(
        store,
        results=[
            {
                "device_seq": create.device_seq,
                "change_id": create.change_id,
                "status": "applied",
                "server_seq": 1,
            }
        ],
        cursor="1." + "0" * 16,
    )
    server_value = record.record[KEY]
    seq = 1
    pulls: list[dict[str, Any]] = []  # other PCs' changes, not yet delivered
    answers: list[dict[str, Any]] = []  # answers to own edits, not yet delivered
    for step in history:
        seq += 1
        if step[0] == "other":
            pulls.append(
                {
                    "server_seq": seq,
                    "change_id": f"r{seq}",
                    "device_id": "other",
                    "device_seq": seq,
                    "entity": "dossier",
                    "entity_id": record.id,
                    "op": "upsert",
                    "version": seq,
                    "fields": {KEY: [server_value, step[1]]},
                    "hlc": "x",
                    "clerk": "hoa",
                    "commune": COMMUNE,
                    "kind": "change",
                    "status": "applied",
                }
            )
            server_value = step[1]
        else:
            current = store.get_dossier(record.id).record[KEY]
            if current == step[1]:
                seq -= 1
                continue  # no change made: nothing to send
            store.update_dossier(record.id, {FIELD: step[1]})
            change = store.pending_changes()[-1]
            answers.append(
                {
                    "device_seq": change.device_seq,
                    "change_id": change.change_id,
                    "status": step[2],
                    "server_seq": seq,
                }
            )
            if step[2] == "applied":
                server_value = step[1]
        # Deliver a random prefix of what is waiting: pages in order, answers in order.
        n_pull = lag.draw(st.integers(0, len(pulls)))
        n_ans = lag.draw(st.integers(0, len(answers)))
        if n_pull or n_ans:
            delivered = pulls[:n_pull]
            cursor = f"{delivered[-1]['server_seq']}." + "0" * 16 if delivered else "1." + "0" * 16
            _apply(store, changes=delivered, results=answers[:n_ans], cursor=cursor)
            del pulls[:n_pull], answers[:n_ans]
    if pulls or answers:
        cursor = f"{seq}." + "0" * 16
        _apply(store, changes=pulls, results=answers, cursor=cursor)
    assert store.outbox_summary().pending == 0
    assert store.get_dossier(record.id).record[KEY] == server_value
