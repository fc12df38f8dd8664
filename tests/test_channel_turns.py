"""Each message processed once, each visitor's turns in arrival order."""
import asyncio

from channels.webhooks import SeenIds, Turns


def test_a_message_id_is_processed_once_and_the_memory_is_bounded():
    seen = SeenIds(size=2)
    assert seen.first_time("m_1") and not seen.first_time("m_1")
    assert seen.first_time("m_2") and seen.first_time("m_3")
    assert seen.first_time("m_1")  # forgotten: only the latest 2 are kept


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
        await asyncio.sleep(0.4)

    asyncio.run(main())
    assert done == [("ben", "only"), ("ana", "first"), ("ana", "second")]
