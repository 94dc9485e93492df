"""SqlStore must keep step with the Store protocol handlers are written against."""

import inspect

from bot.storage import SqlStore
from handlers.store import Store


def _protocol_methods() -> list[str]:
    return [
        name
        for name, value in vars(Store).items()
        if not name.startswith("_") and inspect.isfunction(value)
    ]


def test_every_protocol_method_is_implemented_with_its_signature() -> None:
    names = _protocol_methods()
    assert "claim_alert" in names and "ping" in names
    for name in names:
        wanted = inspect.signature(getattr(Store, name))
        implemented = getattr(SqlStore, name)
        assert inspect.iscoroutinefunction(implemented), name
        got = inspect.signature(implemented)
        assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == [
            (p.name, p.kind, p.default) for p in wanted.parameters.values()
        ], name
