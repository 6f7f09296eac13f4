"""The data of the receipt slip (phiếu tiếp nhận hồ sơ và hẹn trả kết quả).

:func:`build_receipt` turns a dossier record (the flat dict of docs/architecture.md) into a
:class:`ReceiptSlip`: what printing lays out and the UI shows. The promised date comes from
the record's ``due_at`` when the store has set it, else from ``workdays.due_date``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from desktop.forms.dates import parse_iso_date
from desktop.forms.model import Procedure
from desktop.forms.records import record_data
from desktop.forms.workdays import HolidaysArg, due_date

__all__ = ["ReceiptSlip", "build_receipt"]


@dataclass(frozen=True)
class ReceiptSlip:
    """Everything printed on the receipt slip.

    Attributes:
        commune_name: the receiving commune (``Xã Khao Mang``).
        dossier_no: the dossier (receipt) number.
        procedure_code: internal procedure code (``khai_sinh``).
        procedure_title: Vietnamese title (``Đăng ký khai sinh``).
        national_code: the national portal code (``1.001193``).
        result_document: what the citizen will receive (``Giấy khai sinh``).
        applicant_name: who handed in the papers (both spouses for a marriage).
        applicant_id: the applicant's personal ID number.
        applicant_phone: a contact phone number ('' when not given).
        applicant_address: the applicant's residence.
        papers: the papers received.
        received_at: when the papers were received.
        due_date: the date the result is promised (hẹn trả kết quả).
        clerk_name: the clerk who received the papers.
        copies: number of certified copies requested.
        late: the event is registered after its legal deadline.
        fee_note: a Vietnamese line about the fee.
        processing_note: the statutory processing time in words.
    """

    commune_name: str
    dossier_no: str
    procedure_code: str
    procedure_title: str
    national_code: str
    result_document: str
    applicant_name: str
    applicant_id: str
    applicant_phone: str
    applicant_address: str
    papers: tuple[str, ...]
    received_at: datetime
    due_date: date
    clerk_name: str
    copies: int = 0
    late: bool = False
    fee_note: str = ""
    processing_note: str = ""


def _received_at(value: object) -> datetime:
    """Read the record's ``received_at`` (ISO text or datetime).

    Raises:
        ValueError: missing or not a date-time.
    """
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            text = value.strip()
            # Python 3.10's fromisoformat does not read a trailing "Z".
            return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            pass
    raise ValueError(f"dossier record has no valid received_at: {value!r}")


def _fee_note(procedure: Procedure, late: bool) -> str:
    """Return the fee line: exempt when on time, due when late or always charged."""
    if procedure.event_deadline_days is not None:
        if late:
            return "Đăng ký quá hạn: nộp lệ phí theo quy định của Hội đồng nhân dân tỉnh."
        return "Miễn lệ phí (đăng ký đúng hạn)."
    return "Lệ phí theo quy định của Hội đồng nhân dân tỉnh (miễn cho các trường hợp luật định)."


def build_receipt(
    procedure: Procedure,
    dossier_record: Mapping[str, Any],
    *,
    commune_name: str,
    clerk_name: str,
    holidays: HolidaysArg = None,
    extended: bool = False,
) -> ReceiptSlip:
    """Build the receipt slip of a dossier.

    Args:
        procedure: the dossier's procedure.
        dossier_record: the flat record (``dossier_no``, ``received_at``, ``due_at``,
            ``late``, ``data.<field>`` …); a nested ``data`` dict works too. An optional
            ``papers`` list replaces the procedure's usual list of papers.
        commune_name: the receiving commune's name.
        clerk_name: the receiving clerk's full name.
        holidays: the holiday table for the due date (None: the shipped one).
        extended: promise the longer time (marriage when conditions must be verified).

    Raises:
        ValueError: the record has no valid ``received_at``.
    """
    data = record_data(dossier_record)
    received = _received_at(dossier_record.get("received_at"))
    due = parse_iso_date(str(dossier_record.get("due_at") or "")[:10])
    if due is None:
        due = due_date(procedure, received, holidays=holidays, extended=extended)
    applicant = procedure.applicant(data)
    papers_value = dossier_record.get("papers")
    if isinstance(papers_value, (list, tuple)) and papers_value:
        papers = tuple(str(p) for p in papers_value)
    else:
        papers = procedure.papers
    copies_text = str(data.get("so_ban_sao") or "0").strip()
    copies = int(copies_text) if copies_text.isdigit() else 0
    late = dossier_record.get("late") in (True, 1, "1", "true")
    return ReceiptSlip(
        commune_name=commune_name,
        dossier_no=str(dossier_record.get("dossier_no") or ""),
        procedure_code=procedure.code,
        procedure_title=procedure.title,
        national_code=procedure.national_code,
        result_document=procedure.result_document,
        applicant_name=applicant["name"],
        applicant_id=applicant["id_number"],
        applicant_phone=applicant["phone"],
        applicant_address=applicant["address"],
        papers=papers,
        received_at=received,
        due_date=due,
        clerk_name=clerk_name,
        copies=copies,
        late=late,
        fee_note=_fee_note(procedure, late),
        processing_note=procedure.processing.description,
    )
