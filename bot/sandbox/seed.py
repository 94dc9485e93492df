"""What the sandbox holds: locations in the states worth seeing, and one staff user."""

from __future__ import annotations

from bot.sandbox.altegio import SandboxAltegio

LOGIN = "demo@sandbox.example"
PASSWORD = "sandbox"  # noqa: S105 - printed at start for anyone to use
USER_TOKEN = "usr-sandbox-0000000000000001"  # noqa: S105 - the same in every process

LAPSING = 4523464  # the id the README uses: lapses within days, so the sweep alerts about it
LAPSED = 4523465
INACTIVE = 4523466
UNLIMITED = 4523467
MANY_OPTIONS = 4523468

_OPTIONS = [
    "Online booking",
    "SMS reminders",
    "Loyalty programme",
    "Payroll",
    "Inventory",
    "Electronic queue",
    "Client app",
    "Telephony",
    "Gift cards",
    "Analytics",
    "Chain management",
    "API access",
]


def seed(sandbox: SandboxAltegio) -> SandboxAltegio:
    def options(count: int) -> list[dict[str, object]]:
        return [{"id": n, "title": title} for n, title in enumerate(_OPTIONS[:count], 1)]

    sandbox.add_license(LAPSING, plan="Business", days_left=5, staff_limit=10, options=options(3))
    sandbox.add_license(LAPSED, plan="Start", active=False, days_left=-12, staff_limit=3)
    sandbox.add_license(INACTIVE, plan="Business", active=False, days_left=90, staff_limit=10)
    sandbox.add_license(UNLIMITED, plan="Network", days_left=240, staff_limit=0, options=options(2))
    sandbox.add_license(
        MANY_OPTIONS, plan="Premium", days_left=45, staff_limit=25, options=options(12)
    )
    sandbox.add_user(LOGIN, PASSWORD, name="Sandy Sandbox", user_token=USER_TOKEN)
    return sandbox


async def start_sandbox() -> SandboxAltegio:
    return await seed(SandboxAltegio()).start()
