"""`make soak`: ten minutes of steady traffic against the embedded set-up (the
Rasa server and the action server on SQLite, started as the tests start them),
to show that memory, open files and latency stay flat.

Ten visitors at a time, each sending a message a second (about 10 messages a
second in all), each a new conversation after the last: FAQ questions from
the held-out pool, small talk, bookings and call-back requests through to the
stored request (bench/traffic.py, drawn by `--seed`). Every 30 s it samples
both servers' resident memory and open file descriptors and the size of the
SQLite files (with their write-ahead logs).

"Start" is the first minute after a warm-up minute (a tenth of the run each);
"end" is the last minute. It reports both, the failed turns (no answer, an
error, the "unavailable" reply, or a booking or call-back that quotes no
reference or whose reference is not in the database) and the growth of each
server's memory from start to end, and exits 1 when a target is missed:
no failed turn, memory growth under 10 %.

    python -m bench.soak [--minutes 10] [--seed 18] [--out bench/results/soak.json]

A run of other than 10 minutes writes test-artifacts/soak/soak.json unless
told otherwise, so a short run never replaces the full run's figures. The
servers' logs and databases are left in test-artifacts/soak/.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sqlite3
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import aiohttp

from bench.traffic import SEED, Visitors
from channels.guard import UNAVAILABLE
from rasa_patches.action_time_limit import ACTIONS_DOWN
from tests.support.assistant import start_assistant, stop_all  # the tests' own launcher

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "test-artifacts" / "soak"
RESULT = ROOT / "bench" / "results" / "soak.json"
MINUTES = 10
VISITORS = 10  # conversations at once
PACE_S = 1.0  # each visitor's time from one message to the next: 10 a second in all
SAMPLE_S = 30
TIMEOUT_S = 30
GROWTH_LIMIT = 0.10  # of each server's resident memory, start to end
SAVES = {"booking", "call-back"}  # the kinds whose last reply quotes a stored request
REFERENCE = re.compile(r"\b(MN-[A-Z2-9]{6})\b")


@dataclass
class Turn:
    at_s: float  # sent, from the start of the traffic
    latency_ms: float
    kind: str
    failure: Optional[str] = None


def percentile(values: Sequence[float], share: float) -> Optional[float]:
    """The value below which `share` of `values` lie, interpolated between
    the two nearest (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def growth(start: float, end: float) -> float:
    """The change from `start` to `end` as a share of `start`."""
    return (end - start) / start


def latencies(turns: Sequence[Turn], start_s: float, end_s: float) -> Dict[str, object]:
    """p50 and p95 of the answered turns sent in [start_s, end_s)."""
    times = [turn.latency_ms for turn in turns
             if start_s <= turn.at_s < end_s and turn.failure is None]
    return {"from_s": start_s, "to_s": end_s, "turns": len(times),
            "p50_ms": percentile(times, 0.50), "p95_ms": percentile(times, 0.95)}


def turn_failure(status: int, replies: object, saves: bool) -> Tuple[Optional[str], Optional[str]]:
    """What went wrong with a turn (None: nothing), and the reference its
    reply quotes. `saves`: the turn must store a request and quote it."""
    if status != 200:
        return f"HTTP {status}", None
    if not isinstance(replies, list) or not replies:
        return "no reply", None
    texts = [reply.get("text") or "" for reply in replies]
    if any(text in {*ACTIONS_DOWN.values(), *UNAVAILABLE.values()} for text in texts):
        return "the assistant or its action server failed", None
    quoted = next((match.group(1) for text in texts for match in [REFERENCE.search(text)]
                   if match), None)
    if saves and quoted is None:
        return "no reference quoted: the request was not stored", None
    return None, quoted


def process_tree(pid: int) -> List[int]:
    """`pid` and the processes it started, and theirs."""
    parents: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(parent, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def server_figures(pid: int) -> Dict[str, float]:
    """Resident memory (MB) and open file descriptors of a server and its children."""
    rss_kb, fds = 0, 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
            rss_kb += int(next(line.split()[1] for line in status.splitlines()
                               if line.startswith("VmRSS:")))
            fds += len(os.listdir(f"/proc/{member}/fd"))
        except (OSError, StopIteration):
            continue  # ended meanwhile
    return {"rss_mb": round(rss_kb / 1024, 1), "open_fds": fds}


def file_sizes(folder: Path) -> Dict[str, float]:
    """The SQLite files and their write-ahead logs, in MB."""
    return {path.name: round(path.stat().st_size / 1e6, 3)
            for path in sorted(folder.glob("*.db*"))}


def sample(at_s: float, pids: Dict[str, int], folder: Path) -> dict:
    return {"at_s": round(at_s, 1), **{name: server_figures(pid) for name, pid in pids.items()},
            "files_mb": file_sizes(folder), "load_average": list(os.getloadavg())}


class Traffic:
    """The visitors' conversations against the Rasa server at `url`."""

    def __init__(self, url: str, seed: str, seconds: float) -> None:
        self.webhook = f"{url}/webhooks/rest/webhook"
        self.visitors = Visitors(seed)
        self.seconds = seconds
        self.turns: List[Turn] = []
        self.saved: List[Tuple[str, str]] = []  # (kind, reference) confirmed to the visitor
        self.conversations: Dict[str, int] = {}

    async def visitor(self, number: int, session: aiohttp.ClientSession, t0: float) -> None:
        loop = asyncio.get_running_loop()
        due = t0 + number * PACE_S / VISITORS  # spread evenly over the second
        while True:
            kind, texts = self.visitors.next()
            self.conversations[kind] = self.conversations.get(kind, 0) + 1
            sender = f"soak-{uuid.uuid4().hex[:12]}"
            for index, text in enumerate(texts):
                await asyncio.sleep(max(0.0, due - loop.time()))
                if loop.time() - t0 >= self.seconds:
                    return
                await self.turn(session, sender, kind, text,
                                kind in SAVES and index == len(texts) - 1, loop.time() - t0)
                due = max(due + PACE_S, loop.time())  # after a slow reply: no catching up

    async def turn(self, session: aiohttp.ClientSession, sender: str, kind: str, text: str,
                   saves: bool, at_s: float) -> None:
        started = time.perf_counter()
        try:
            async with session.post(self.webhook,
                                    json={"sender": sender, "message": text}) as response:
                replies = await response.json(content_type=None)
                failure, reference = turn_failure(response.status, replies, saves)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            failure, reference = type(error).__name__, None
        self.turns.append(Turn(round(at_s, 3), (time.perf_counter() - started) * 1000, kind,
                               failure))
        if saves and reference:
            self.saved.append((kind, reference))

    async def run(self, pids: Dict[str, int], folder: Path, sample_at: Sequence[float]
                  ) -> List[dict]:
        """The traffic, with samples taken at the times of `sample_at`; the
        last is taken when the last visitor's turn has been answered."""
        loop = asyncio.get_running_loop()
        samples: List[dict] = []
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=VISITORS),
                                         timeout=timeout) as session:
            t0 = loop.time()

            async def sampler() -> None:
                for at_s in sample_at:
                    await asyncio.sleep(max(0.0, t0 + at_s - loop.time()))
                    samples.append(sample(loop.time() - t0, pids, folder))

            sampling = asyncio.create_task(sampler())
            await asyncio.gather(*(self.visitor(number, session, t0)
                                   for number in range(VISITORS)))
            sampling.cancel()
            samples.append(sample(loop.time() - t0, pids, folder))
        return samples


def stored_requests(database: Path) -> Dict[str, str]:
    """reference -> kind of every request in the bookings database."""
    with sqlite3.connect(database) as connection:
        return dict(connection.execute("SELECT reference, kind FROM booking_requests"))


KIND_STORED = {"booking": "consultation", "call-back": "callback"}


def unstored(saved: Sequence[Tuple[str, str]], stored: Dict[str, str]) -> List[str]:
    """The references confirmed to a visitor but not stored as their kind."""
    return [reference for kind, reference in saved if stored.get(reference) != KIND_STORED[kind]]


def summary(turns: List[Turn], samples: List[dict], seconds: float, missing: List[str]
            ) -> dict:
    """The figures at the start and the end, the failures, and the verdict."""
    window = seconds / 10
    start = next(s for s in samples if s["at_s"] >= window - 1)
    end = samples[-1]
    failures = [turn for turn in turns if turn.failure] + [
        Turn(seconds, 0.0, "stored", f"{reference} confirmed but not stored")
        for reference in missing]
    memory = {name: growth(start[name]["rss_mb"], end[name]["rss_mb"])
              for name in ("rasa", "actions")}
    return {
        "turns": len(turns),
        "messages_per_s": round(len(turns) / seconds, 2),
        "failed_turns": len(failures),
        "failures": [asdict(turn) for turn in failures[:20]],
        "start": {**start, "latency": latencies(turns, window, 2 * window)},
        "end": {**end, "latency": latencies(turns, seconds - window, seconds)},
        "memory_growth": {name: round(value, 4) for name, value in memory.items()},
        "targets_met": not failures and all(value < GROWTH_LIMIT for value in memory.values()),
    }


def report(result: dict) -> str:
    start, end = result["start"], result["end"]

    def row(label: str, first: object, last: object, change: str = "") -> str:
        return f"| {label} | {first} | {last} | {change} |"

    lines = [f"| measure | start ({start['at_s']:.0f} s) | end ({end['at_s']:.0f} s) | growth |",
             "|---|---|---|---|"]
    for name, label in (("rasa", "Rasa server"), ("actions", "action server")):
        lines.append(row(f"resident memory, {label} (MB)", start[name]["rss_mb"],
                         end[name]["rss_mb"], f"{result['memory_growth'][name]:+.1%}"))
        lines.append(row(f"open file descriptors, {label}", start[name]["open_fds"],
                         end[name]["open_fds"]))
    for file in sorted(set(start["files_mb"]) | set(end["files_mb"])):
        lines.append(row(f"{file} (MB)", start["files_mb"].get(file, 0),
                         end["files_mb"].get(file, 0)))
    for key in ("p50_ms", "p95_ms"):
        first, last = start["latency"][key], end["latency"][key]
        lines.append(row(f"latency {key[:3]} (ms)", f"{first:.1f}" if first else "-",
                         f"{last:.1f}" if last else "-"))
    lines.append(row("load average (1 min)", f"{start['load_average'][0]:.2f}",
                     f"{end['load_average'][0]:.2f}"))
    conversations = ", ".join(f"{n} {kind}" for kind, n in sorted(result["conversations"].items()))
    lines += [
        "",
        f"{result['turns']} turns in {result['minutes']} min ({result['messages_per_s']} a "
        f"second), conversations begun: {conversations}; requests confirmed and stored: "
        f"{result['requests_confirmed']}.",
        f"Failed turns: {result['failed_turns']} (target 0). Memory growth: "
        + ", ".join(f"{name} {value:+.1%}" for name, value in result["memory_growth"].items())
        + f" (target under {GROWTH_LIMIT:.0%}). "
        + ("Targets met." if result["targets_met"] else "TARGET MISSED."),
    ]
    return "\n".join(lines)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=MINUTES, help="length of the traffic")
    parser.add_argument("--seed", default=SEED, help="the seed of the conversations")
    parser.add_argument("--out", type=Path, help="the JSON file of the figures")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    args = parser.parse_args(argv)
    out = args.out or (RESULT if args.minutes == MINUTES else FOLDER / "soak.json")
    seconds = args.minutes * 60
    shutil.rmtree(FOLDER, ignore_errors=True)
    FOLDER.mkdir(parents=True)
    began = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    assistant, servers = start_assistant(FOLDER, args.model)
    try:
        rasa, actions = servers
        pids = {"rasa": rasa.process.pid, "actions": actions.process.pid}
        traffic = Traffic(assistant.url, args.seed, seconds)
        sample_at = sorted({0.0, seconds / 10, *range(SAMPLE_S, int(seconds), SAMPLE_S)})
        print(f"Soak: {args.minutes:g} min at about {VISITORS / PACE_S:.0f} messages a second "
              f"against {assistant.url} (logs and databases in {FOLDER})...", flush=True)
        samples = asyncio.run(traffic.run(pids, FOLDER, sample_at))
        missing = unstored(traffic.saved, stored_requests(FOLDER / "clinic.db"))
    finally:
        stop_all(servers)
    result = {"began": began, "minutes": args.minutes, "seed": args.seed,
              "visitors": VISITORS, "conversations": traffic.conversations,
              "requests_confirmed": len(traffic.saved) - len(missing),
              **summary(traffic.turns, samples, seconds, missing), "samples": samples}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(report(result))
    print(f"\nFigures: {out}")
    return 0 if result["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
