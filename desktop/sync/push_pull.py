"""The records part of a sync: ``POST /sync`` round trips that push the outbox and pull.

Each request carries a batch of pending changes sized to the link (:class:`BatchSizer`), the
pull cursor, the device's report for provincial IT (:mod:`desktop.sync.device_report`) and,
when needed, a request for register-book number blocks; each answer is
applied to the store in one transaction (``Store.sync.apply_page``). A quiet sync is one round
trip; a sync stops after :data:`MAX_ROUNDS` and the next one goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from desktop.store.sync_store import Change, PageOutcome, SyncPage, SyncStore
from desktop.sync.channel import Channel
from desktop.sync.client import BatchSizer, TransportError, TransportTimeout
from desktop.sync.device_report import device_report
from desktop.sync.errors import as_sync_error, bad_answer
from desktop.sync.report import SyncReport
from protocol import limits, wire
from protocol.errors import KeyError_
from protocol.keys import PublicKeys, b64d

log = logging.getLogger(__name__)

#: Pending changes read from the outbox per round (a batch is cut from these by size).
OUTBOX_WINDOW = 5000
#: A sync stops after this many round trips even if the server says ``more`` (next time goes on).
MAX_ROUNDS = 200
#: Estimated compressed bytes of one pulled change, to size the pull page to the budget.
PULLED_CHANGE_BYTES = 400
#: Ask the server for a new block of book numbers when fewer than this many are left.
BOOK_LOW_WATER = 20


class RecordSync:
    """Push and pull records through a channel; remembers how well changes compress.

    Args:
        channel: the sealed channel to the server.
        sizer: the push batch budget (grows on success, halves on timeout).
    """

    def __init__(self, channel: Channel, sizer: BatchSizer) -> None:
        """Start with a guess of how well changes compress (learned per batch)."""
        self.channel = channel
        self.store: SyncStore = channel.store
        self.sizer = sizer
        self.compression = 0.35  # compressed / raw bytes of changes

    def run(self, report: SyncReport, on_progress: Callable[[float], None]) -> None:
        """Round-trip until nothing is left to push or pull (or :data:`MAX_ROUNDS`).

        Raises:
            SyncError: the server could not be reached, refused, or answered badly.
        """
        want_blocks = self.blocks_wanted()
        total = max(1, self.store.outbox_summary().pending)
        for _round in range(MAX_ROUNDS):
            pending = self.store.pending_changes(limit=OUTBOX_WINDOW)
            response, pushed = self._round_trip(pending, want_blocks)
            want_blocks = []
            report.rounds += 1
            outcome = self._apply(response, report)
            on_progress(min(0.99, (report.pushed + report.deferred) / total))
            more_to_push = len(pending) > len(pushed) or bool(outcome.requeued)
            if outcome.deferred and not outcome.requeued and not response.get("more"):
                # The server lacks an earlier change it has not told us about: stop for now.
                more_to_push = False
            if not (response.get("more") or more_to_push or response.get("reset")):
                return
        log.info("sync stopped after %d rounds; the next sync continues", MAX_ROUNDS)

    def blocks_wanted(self) -> list[dict[str, Any]]:
        """Return the register-book blocks to ask for: books of this year running low."""
        from desktop.forms.procedures import all_procedures  # the declarations load on first use

        book_types = sorted({p.book_type for p in all_procedures() if p.book_type})
        year = dt.date.fromtimestamp(self.channel.clock()).year
        held = self.store.book_blocks()
        wanted = []
        for book_type in book_types:
            mine = [b for b in held if b.book_type == book_type and b.year == year]
            left = sum(b.remaining for b in mine if b.source == "server")
            if left < BOOK_LOW_WATER:
                after = max((b.end for b in mine), default=0)
                wanted.append({"book_type": book_type, "year": year, "after": after})
        return wanted

    def _choose_batch(self, pending: Sequence[Change]) -> tuple[list[Change], list[dict[str, Any]]]:
        """Cut a batch from the front of the outbox that fits the current budget."""
        budget = self.sizer.budget
        batch: list[Change] = []
        wire_changes: list[dict[str, Any]] = []
        estimate = 0.0
        for change in pending:
            item = change.to_wire()
            size = len(wire.canonical_json(item)) * self.compression
            if batch and estimate + size > budget:
                break
            batch.append(change)
            wire_changes.append(item)
            estimate += size
            if len(batch) >= limits.MAX_CHANGES_PER_REQUEST:
                break
        return batch, wire_changes

    def _round_trip(
        self, pending: Sequence[Change], want_blocks: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], list[Change]]:
        """Send one ``/sync`` (with retries, re-sealed each time); return answer and batch."""
        chosen: list[Change] = []

        def attempt(n: int) -> dict[str, Any]:
            nonlocal chosen
            chosen, wire_changes = self._choose_batch(pending)
            state = self.store.state()
            message: dict[str, Any] = {
                "cursor": state.cursor,
                "changes": wire_changes,
                "limit": max(
                    50, min(limits.MAX_PULL_LIMIT, self.sizer.budget // PULLED_CHANGE_BYTES)
                ),
                "want_blocks": want_blocks,
                "epoch": state.server_epoch,
                "report": device_report(self.store),
            }
            seqs = [c.device_seq for c in chosen]
            seq_range = (min(seqs), max(seqs)) if seqs else None
            raw = len(wire.canonical_json(wire_changes)) if wire_changes else 0
            response, sealed_size = self.channel.call(
                wire.PATH_SYNC, message, seq_range=seq_range, expect=self.sizer.budget
            )
            if raw > 2000:
                self.compression = max(0.05, min(1.0, sealed_size / raw))
            return response

        def failed(n: int, exc: TransportError) -> None:
            if isinstance(exc, TransportTimeout):
                self.sizer.timeout()
            log.info("sync attempt %d failed: %s", n + 1, exc)

        try:
            response = self.channel.retry(attempt, on_failure=failed)
        except TransportError as exc:
            raise as_sync_error(exc) from exc
        self.sizer.success()
        return response, chosen

    def _apply(self, response: Mapping[str, Any], report: SyncReport) -> PageOutcome:
        """Apply one answer to the store in one transaction; add what it did to the report."""
        server_time = response.get("server_time")
        offset = None
        if isinstance(server_time, int | float) and server_time > 0:
            midpoint = float(response.get("_rtt_midpoint") or self.channel.clock())
            offset = server_time / 1000 - midpoint
            report.clock_offset_s = offset
        changes = [c for c in response.get("changes") or () if isinstance(c, dict)]
        assert self.channel.server_keys is not None
        check_resolutions(self.channel.server_keys, changes)
        page = SyncPage(
            results=[r for r in response.get("results") or () if isinstance(r, dict)],
            changes=changes,
            cursor=str(response.get("cursor") or ""),
            epoch=str(response["epoch"]) if response.get("epoch") else None,
            max_device_seq=int(response.get("max_device_seq") or 0),
            reset=bool(response.get("reset")),
            blocks=[b for b in response.get("blocks") or () if isinstance(b, dict)],
            clock_offset_s=offset,
            skew_flagged=bool(response.get("skew_flagged")),
            conflicts_open=response.get("conflicts_open"),
            synced_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        )
        outcome = self.store.apply_page(page)
        report.add_outcome(outcome, reset=page.reset)
        return outcome


def check_resolutions(server_keys: PublicKeys, changes: Sequence[Mapping[str, Any]]) -> None:
    """Refuse a page whose resolutions are not signed by the pinned server key.

    The answer as a whole is signed already; the per-change signature is what lets a
    resolution be checked later, wherever it is kept, so a bad one is not let in.

    Raises:
        SyncError: a resolution without a valid server signature.
    """
    for change in changes:
        if change.get("kind") != wire.KIND_RESOLUTION:
            continue
        signature = change.get("signature")
        try:
            valid = isinstance(signature, str) and server_keys.verify(
                b64d(signature), wire.resolution_message(dict(change))
            )
        except KeyError_:
            valid = False
        if not valid:
            raise bad_answer(f"resolution {change.get('change_id')} is not signed by the server")
