"""The load generator of `make bench`: conversations over Rasa's REST channel.

Runs a bounded number of conversations, `--concurrency` at a time, each
sending its turns one after the other: a greeting, three FAQ questions dealt
from the held-out pool by `--seed` (bench/traffic.py: the same seed, the same
texts), an out-of-scope question and booking turns. Prints one JSON object:
the latency of every message, failures, and the wall time.

    python -m bench.load http://127.0.0.1:5005 --concurrency 20 --conversations 60 --seed 18
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from typing import List

import aiohttp

from bench.traffic import SEED, bench_conversations
from channels.guard import UNAVAILABLE
from rasa_patches.action_time_limit import ACTIONS_DOWN

TIMEOUT_S = 60


async def conversation(session: aiohttp.ClientSession, webhook: str, texts: List[str],
                       latencies: List[float], failures: List[str]) -> None:
    sender = f"bench-{uuid.uuid4().hex[:12]}"
    for text in texts:
        started = time.perf_counter()
        try:
            async with session.post(webhook, json={"sender": sender, "message": text}) as response:
                replies = await response.json(content_type=None)
                elapsed = time.perf_counter() - started
                if response.status != 200 or not replies:
                    failures.append(f"{response.status}: {'no reply' if not replies else ''}")
                    continue
                # A failed turn is answered fast: it must not count as an answer.
                if any(reply.get("text") in {*ACTIONS_DOWN.values(), *UNAVAILABLE.values()} for reply in replies):
                    failures.append(f"{text!r}: the assistant or its action server failed")
                    continue
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            failures.append(type(error).__name__)
            continue
        latencies.append(elapsed * 1000)


async def run(url: str, concurrency: int, conversations: int, seed: str = SEED) -> dict:
    webhook = f"{url}/webhooks/rest/webhook"
    latencies: List[float] = []
    failures: List[str] = []
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    streams = bench_conversations(seed, conversations)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def one(texts: List[str]) -> None:
            async with limit:
                await conversation(session, webhook, texts, latencies, failures)

        started = time.perf_counter()
        await asyncio.gather(*(one(texts) for texts in streams))
        wall_s = time.perf_counter() - started
    return {"concurrency": concurrency, "conversations": conversations,
            "seed": seed, "messages": sum(map(len, streams)), "answered": len(latencies),
            "failures": failures, "wall_s": wall_s, "latencies_ms": latencies}


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the Rasa server, e.g. http://127.0.0.1:5005")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--seed", default=SEED, help="the same seed, the same messages")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.url, args.concurrency, args.conversations, args.seed))
    json.dump(result, sys.stdout)
    return 0 if not result["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
