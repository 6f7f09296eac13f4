"""The sync object screens talk to: the real one and the tests' fake implement all of it."""

from __future__ import annotations

import inspect

import pytest

from desktop.app import EngineSync
from desktop.ui.services import SyncService
from tests.ui.fakes import FakeSync


def _protocol_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(SyncService).items()
        if callable(member) and not name.startswith("_")
    }


def test_the_protocol_names_what_screens_call() -> None:
    assert set(_protocol_methods()) == {
        "status",
        "sync_now",
        "subscribe",
        "enrol",
        "printout_signer",
        "apply_settings",
        "history",
        "stop",
    }


@pytest.mark.parametrize("implementation", [EngineSync, FakeSync])
def test_every_sync_object_implements_the_whole_protocol(implementation: type) -> None:
    for name, signature in _protocol_methods().items():
        method = getattr(implementation, name, None)
        assert callable(method), f"{implementation.__name__} lacks {name}"
        assert list(inspect.signature(method).parameters) == list(signature.parameters), name
