"""Each visitor's turns in arrival order (each message processed once:
tests/test_once.py, tests/test_memory.py)."""
import asyncio

import pytest

from channels.webhooks import Turns

pytestmark = pytest.mark.unit


def test_a_visitors_turns_run_in_order_even_when_the_first_is_slower():
    done = []

    def turn(sender, name, seconds):
        async def run():
            await asyncio.sleep(seconds)
            done.append((sender, name))
        return run

    async def main():
        turns = Turns("test")
        turns.run("ana", turn("ana", "first", 0.2))
        turns.run("ana", turn("ana", "second", 0))
        turns.run("ben", turn("ben", "only", 0))
        while len(done) < 3:  # all three turns have run
            await asyncio.sleep(0.01)

    asyncio.run(asyncio.wait_for(main(), 10))
    assert done == [("ben", "only"), ("ana", "first"), ("ana", "second")]
