"""The sweep, fetching with each watcher's linked session, forgets a session Altegio refuses only
when the partner token is proven good, as commands do: a refused partner token, or a check that
times out, leaves the session (and so the watch) as it was for the next sweep."""

from __future__ import annotations

import pytest

from tests.alerts.support import OPS, alerts_in, run_sweep
from tests.bot_server import BotServer
from tests.fakes import TEAM_ID, USER_ID, FakeAltegio, FakeSlack
from tests.fakes.altegio_data import FakeUser

CHECK = "/validation/validate_phone/"


@pytest.fixture
def member_bot(make_bot) -> BotServer:
    return make_bot(license_cache_ttl=0, altegio_rate_limit=50)


@pytest.fixture
def maria(member_bot: BotServer, fake_altegio: FakeAltegio) -> FakeUser:
    """A watch of a lapsing licence, set up by Maria, fetched with her session."""
    fake_altegio.license_requires_user = True
    fake_altegio.unauthorized_message = "Unauthorized"
    fake_altegio.add_license(1001, days_left=5)
    user = fake_altegio.add_user("manager@example.com", "pw-123456", name="Maria Manager")
    store = member_bot.runtime.store
    member_bot.call(
        store.save_account(
            TEAM_ID,
            USER_ID,
            altegio_user_id=user.id,
            name=user.name,
            login=user.login,
            user_token=user.user_token,
        )
    )
    assert member_bot.call(store.add_watch(TEAM_ID, OPS, 1001, USER_ID))
    return user


def session(bot: BotServer):
    return bot.call(bot.runtime.store.get_account(TEAM_ID, USER_ID))


async def test_a_session_refused_with_a_good_partner_token_is_forgotten(
    member_bot: BotServer, fake_altegio: FakeAltegio, maria: FakeUser
) -> None:
    fake_altegio.revoke_token(maria.user_token)
    summary = run_sweep(member_bot, as_members=True)
    assert summary.failed == 1
    assert len(fake_altegio.requests(CHECK)) == 1
    assert session(member_bot) is None


@pytest.mark.parametrize("trouble", ["partner token refused", "check times out"])
async def test_a_session_is_kept_unless_the_partner_token_is_proven_good(
    member_bot: BotServer,
    fake_altegio: FakeAltegio,
    fake_slack: FakeSlack,
    maria: FakeUser,
    trouble: str,
) -> None:
    if trouble == "partner token refused":
        fake_altegio.partner_refused = True
    else:
        fake_altegio.revoke_token(maria.user_token)  # refused, but the check cannot tell
        fake_altegio.delay(5, CHECK)
    summary = run_sweep(member_bot, as_members=True)
    assert summary.failed == 1 and summary.posted == 0
    assert len(fake_altegio.requests(CHECK)) == 1
    assert session(member_bot) is not None
    assert alerts_in(fake_slack) == []  # nor is the watch announced as paused
    if trouble == "partner token refused":
        # Altegio takes the partner token again: the same session serves the next sweep.
        fake_altegio.partner_refused = False
        assert run_sweep(member_bot, as_members=True).posted == 1
        (alert,) = alerts_in(fake_slack, OPS)
        assert "1001" in str(alert)
