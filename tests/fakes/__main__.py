"""Run both fakes until interrupted, for trying a local `altegio-bot serve` by hand.

    python -m tests.fakes            # prints the settings that point the bot at the fakes

Location 4523464 has a licence lapsing in 5 days and 4523465 one in 200 days; the Altegio user
manager@example.com / secret can log in.
"""

from __future__ import annotations

import contextlib
import threading

from tests.fakes.altegio import FakeAltegio
from tests.fakes.fixtures import settings_for
from tests.fakes.slack import FakeSlack


def main() -> None:
    with FakeAltegio() as altegio, FakeSlack() as slack:
        altegio.add_license(4523464, days_left=5, options=[{"id": 1, "title": "Online booking"}])
        altegio.add_license(4523465, plan="Business", days_left=200)
        altegio.add_user()
        for name, value in settings_for(altegio, slack).items():
            print(f"{name.upper()}={value}")
        print("# serving until Ctrl-C", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
