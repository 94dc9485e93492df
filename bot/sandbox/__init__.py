"""The built-in sandbox Altegio: `altegio-bot demo` and ALTEGIO_SANDBOX=1 run against it."""

from bot.sandbox.altegio import PARTNER_TOKEN, SandboxAltegio
from bot.sandbox.seed import LOGIN, PASSWORD, seed, start_sandbox

__all__ = ["LOGIN", "PARTNER_TOKEN", "PASSWORD", "SandboxAltegio", "seed", "start_sandbox"]
