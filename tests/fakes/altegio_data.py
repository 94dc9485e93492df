"""The fake Altegio's records are the sandbox's own (bot/sandbox/records.py)."""

from bot.sandbox.records import SandboxLicense as FakeLicense
from bot.sandbox.records import SandboxUser as FakeUser
from bot.sandbox.records import StoredImage

__all__ = ["FakeLicense", "FakeUser", "StoredImage"]
