"""Wire check: everything that crosses the network is sealed; no name or ID number in clear.

The fault proxy captures every byte between two devices and the server (enrolment, pushes,
pulls, a scan upload). The capture must not contain the citizens' names (NFC or NFD UTF-8,
upper case, or folded without diacritics), their ID numbers, or the scan's content.
"""

from __future__ import annotations

import os
import unicodedata

from bench.faultproxy import FaultProxy
from tests.forms.samples import RECEIVED
from tests.store.factory import birth

CHILD = ("Giàng", "Seo", "Chứ")
MOTHER = "Sùng Thị Mỷ"
ID_NUMBER = "015301987654"


def _needles() -> list[bytes]:
    names = [" ".join(CHILD), MOTHER, "Mỷ", "Chứ"]
    out: list[bytes] = []
    for name in names:
        for form in ("NFC", "NFD"):
            text = unicodedata.normalize(form, name)
            out += [text.encode("utf-8"), text.upper().encode("utf-8")]
    out.append(b"giang seo chu")  # the folded search key
    out.append(b"sung thi my")
    out.append(ID_NUMBER.encode())
    out.append(ID_NUMBER.encode("utf-16-le"))
    return out


def test_captured_traffic_holds_no_personal_data(sqlite_server, make_device, tmp_path) -> None:
    capture = tmp_path / "wire.bin"
    port = int(sqlite_server.url.rsplit(":", 1)[1])
    with FaultProxy("127.0.0.1", port, capture=capture) as proxy:
        url = f"http://127.0.0.1:{proxy.port}"
        a = make_device(sqlite_server, "a", url=url)
        b = make_device(sqlite_server, "b", url=url)
        data = birth(1)
        data.update(
            tre_ho=CHILD[0],
            tre_chu_dem=CHILD[1],
            tre_ten=CHILD[2],
            me_ho_ten=MOTHER,
            me_so_dinh_danh=ID_NUMBER,
        )
        record = a.store.register_dossier("khai_sinh", data, received_at=RECEIVED)
        scan = b"%PDF-1.4 scan of giay chung sinh " + ID_NUMBER.encode() + os.urandom(70_000)
        a.store.add_attachment(record.id, scan, "giay-chung-sinh.pdf", "application/pdf")
        first = a.sync()
        assert first.ok and first.applied == 2  # the dossier and its attachment record
        assert first.attachments_uploaded == 1
        assert b.sync().pulled >= 1
        counters = proxy.counters()

    # The capture is the whole conversation and the dossier really travelled through it.
    wire = capture.read_bytes()
    assert len(wire) == counters.bytes_up + counters.bytes_down > len(scan)
    assert b.store.get_dossier(record.id).record["data.me_so_dinh_danh"] == ID_NUMBER
    assert b"POST /sync" in wire and b"PATCH /attachments/" in wire
    found = [needle for needle in _needles() if needle in wire]
    assert found == []
    assert scan[40:80] not in wire  # the scan's random body is encrypted too
