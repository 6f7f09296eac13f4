"""The statistics cube through ``POST /admin``: dossiers by commune, procedure, status, week or
month, late registration and processing against the promised date (both backends)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from server.service import SyncServer
from tests.server.fake_device import FakeDevice
from tests.server.fake_operator import FakeOperator
from tests.server.test_sync import BIRTH

NewDevice = Callable[..., FakeDevice]
NewOperator = Callable[..., FakeOperator]

VN = dt.timezone(dt.timedelta(hours=7))


def local_ms(text: str) -> int:
    """Return the Unix ms of a Vietnamese local time ``YYYY-MM-DDTHH:MM``."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=VN).timestamp() * 1000)


def dossier(device: FakeDevice, n: int, received: str, due: str, **extra: Any) -> str:
    values = {
        **BIRTH,
        "data.me_so_dinh_danh": f"0101990{n:05d}",  # not duplicates of each other
        "received_at": f"{received}T08:00:00",
        "due_at": due,
        "late": False,
        **extra,
    }
    return device.create(values)


def finish(device: FakeDevice, entity_id: str, at: str) -> None:
    """Set a dossier hoan_thanh with the device's clock at local time ``at``."""
    change = device.edit(entity_id, status="hoan_thanh")
    change["hlc"] = f"{local_ms(at):013d}-0000-{device.device_id}"


def test_the_cube_counts_processing_against_the_promised_date(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    pc = new_device()
    on_time = dossier(pc, 1, "2026-03-02", "2026-03-05")
    late = dossier(pc, 2, "2026-03-03", "2026-03-05", late=True)  # registered after 60 days
    dossier(pc, 3, "2026-03-10", "2026-03-25")  # still open
    dossier(pc, 4, "2026-03-10", "2026-03-12")  # overdue
    death = pc.create(
        {
            "procedure": "khai_tu",
            "status": "tiep_nhan",
            "data.nguoi_chet_ho_ten": "Sùng Seo Chứ",
            "received_at": "2026-02-27T15:00:00",
            "due_at": "2026-03-02",
        }
    )
    gone = dossier(pc, 5, "2026-03-10", "2026-03-12")
    pc.sync()
    finish(pc, on_time, "2026-03-04T09:00")
    finish(pc, late, "2026-03-06T09:00")
    # 00:30 on 3 March in Vietnam is still 2 March in UTC: the local date decides (late).
    finish(pc, death, "2026-03-03T00:30")
    pc.delete(gone)
    pc.sync()
    server.clock = lambda: local_ms("2026-03-20T10:00")
    console = new_operator()

    def cube(**args: Any) -> set[tuple[Any, ...]]:
        return {
            (
                r["commune"],
                r["procedure"],
                r["status"],
                r["period"],
                r["late_registration"],
                r["processing"],
                r["count"],
            )
            for r in console.call("stats.dossiers", **args)
        }

    assert cube(period="month") == {
        ("02701", "khai_sinh", "hoan_thanh", "2026-03-01", False, "on_time", 1),
        ("02701", "khai_sinh", "hoan_thanh", "2026-03-01", True, "late", 1),
        ("02701", "khai_sinh", "tiep_nhan", "2026-03-01", False, "open", 1),
        ("02701", "khai_sinh", "tiep_nhan", "2026-03-01", False, "overdue", 1),
        ("02701", "khai_tu", "hoan_thanh", "2026-02-01", False, "late", 1),
    }
    weeks = {(r[3], r[5]) for r in cube(period="week")}
    assert weeks == {
        ("2026-03-02", "on_time"),
        ("2026-03-02", "late"),
        ("2026-03-09", "open"),
        ("2026-03-09", "overdue"),
        ("2026-02-23", "late"),
    }
    assert {r[1] for r in cube(period="month", since="2026-03-01")} == {"khai_sinh"}
    assert {r[1] for r in cube(period="month", until="2026-02-28")} == {"khai_tu"}
    # Days later the open one is overdue too: "today" is the server's.
    server.clock = lambda: local_ms("2026-03-26T10:00")
    assert sum(r[6] for r in cube(period="month") if r[5] == "overdue") == 2


def test_a_returned_dossier_is_finished_and_a_cancelled_one_is_counted_apart(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    pc = new_device()
    returned = dossier(pc, 1, "2026-03-02", "2026-03-05")
    cancelled = dossier(pc, 2, "2026-03-02", "2026-03-05")
    pc.sync()
    change = pc.edit(returned, status="tra_lai")
    change["hlc"] = f"{local_ms('2026-03-04T09:00'):013d}-0000-{pc.device_id}"
    pc.edit(cancelled, status="huy")
    pc.sync()
    server.clock = lambda: local_ms("2026-03-20T10:00")  # both are past their promised date
    rows = new_operator().call("stats.dossiers", period="month")
    outcome = {r["status"]: r["processing"] for r in rows}
    assert outcome == {"tra_lai": "on_time", "huy": "cancelled"}
