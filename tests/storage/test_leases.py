"""Named leases: one holder at a time, handed over when they run out, released only by their
holder; under contention, with every claimer on its own engine as separate processes would be."""

import asyncio
import random

from sqlalchemy import select

from bot.storage.schema import leases

CONTENDERS = 12  # stores, each with its own engine and pool
PER_STORE = 4  # claims in flight on each


async def _holder(store, name: str) -> str | None:
    async with store.engine.connect() as conn:
        stmt = select(leases.c.owner).where(leases.c.name == name)
        return (await conn.execute(stmt)).scalar()


async def test_a_free_lease_is_held_by_its_first_claimer(store) -> None:
    assert await store.claim_lease("sweep/bucket/1", owner="a", lease_seconds=60)
    assert not await store.claim_lease("sweep/bucket/1", owner="b", lease_seconds=60)
    assert await store.claim_lease("sweep/bucket/2", owner="b", lease_seconds=60)
    assert await _holder(store, "sweep/bucket/1") == "a"


async def test_the_holder_may_claim_again_and_extends_its_lease(store, clock) -> None:
    assert await store.claim_lease("L", owner="a", lease_seconds=10)
    clock.advance(8)
    assert await store.claim_lease("L", owner="a", lease_seconds=10)
    clock.advance(8)  # 16 s after the first claim, 8 s after the second
    assert not await store.claim_lease("L", owner="b", lease_seconds=10)
    clock.advance(2)
    assert await store.claim_lease("L", owner="b", lease_seconds=10)


async def test_a_lease_that_ran_out_is_taken_over_and_lost_by_its_old_holder(store, clock) -> None:
    assert await store.claim_lease("L", owner="dead", lease_seconds=30)
    clock.advance(29)
    assert not await store.claim_lease("L", owner="b", lease_seconds=30)
    clock.advance(1)  # expiry itself frees it
    assert await store.claim_lease("L", owner="b", lease_seconds=30)
    assert not await store.claim_lease("L", owner="dead", lease_seconds=30)
    assert await _holder(store, "L") == "b"


async def test_release_frees_the_lease_for_others(store) -> None:
    assert await store.claim_lease("L", owner="a", lease_seconds=600)
    await store.release_lease("L", owner="a")
    assert await _holder(store, "L") is None
    assert await store.claim_lease("L", owner="b", lease_seconds=600)


async def test_only_the_holder_releases(store, clock) -> None:
    assert await store.claim_lease("L", owner="a", lease_seconds=600)
    await store.release_lease("L", owner="b")
    assert not await store.claim_lease("L", owner="b", lease_seconds=600)
    # a's lease runs out and c takes it: a's late release must not free c's lease.
    clock.advance(601)
    assert await store.claim_lease("L", owner="c", lease_seconds=600)
    await store.release_lease("L", owner="a")
    assert not await store.claim_lease("L", owner="b", lease_seconds=600)
    assert await _holder(store, "L") == "c"
    await store.release_lease("never-claimed", owner="a")  # nothing to do, no error


async def _race(make_store, claim) -> list[bool]:
    stores = [await make_store() for _ in range(CONTENDERS)]
    calls = [claim(store, f"s{i}-{j}") for i, store in enumerate(stores) for j in range(PER_STORE)]
    return await asyncio.gather(*calls)


async def test_a_free_lease_race_has_one_winner(make_store) -> None:
    results = await _race(
        make_store, lambda store, owner: store.claim_lease("L", owner=owner, lease_seconds=60)
    )
    assert results.count(True) == 1


async def test_an_expired_lease_race_has_one_winner(make_store, clock) -> None:
    first = await make_store()
    assert await first.claim_lease("L", owner="dead", lease_seconds=5)
    clock.advance(6)
    results = await _race(
        make_store, lambda store, owner: store.claim_lease("L", owner=owner, lease_seconds=60)
    )
    assert results.count(True) == 1
    assert await _holder(first, "L") != "dead"


async def test_many_claimers_over_many_leases_each_lease_won_once(make_store) -> None:
    """Sweepers walking the same buckets in different orders: every bucket gets one holder, and
    what each claimer was told matches the table."""
    names = [f"sweep/bucket/{n}" for n in range(64)]
    stores = [await make_store() for _ in range(6)]

    async def claimer(store, owner: str, seed: int) -> list[str]:
        order = names[:]
        random.Random(seed).shuffle(order)
        return [n for n in order if await store.claim_lease(n, owner=owner, lease_seconds=60)]

    won = await asyncio.gather(*(claimer(store, f"s{i}", seed=i) for i, store in enumerate(stores)))
    assert sorted(n for mine in won for n in mine) == sorted(names)
    for i, mine in enumerate(won):
        for name in mine:
            assert await _holder(stores[0], name) == f"s{i}"


async def test_release_and_claim_racing_leave_one_holder(make_store) -> None:
    holder = await make_store()
    assert await holder.claim_lease("L", owner="a", lease_seconds=60)
    others = [await make_store() for _ in range(CONTENDERS)]
    release = holder.release_lease("L", owner="a")
    claims = [s.claim_lease("L", owner=f"s{i}", lease_seconds=60) for i, s in enumerate(others)]
    _, *results = await asyncio.gather(release, *claims)
    assert results.count(True) <= 1
    owner = await _holder(holder, "L")
    assert (owner is None) == (results.count(True) == 0)
    if owner is not None:
        assert owner == f"s{results.index(True)}"
