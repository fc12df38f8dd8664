"""`make bench`: this assistant against the same project on Rasa's defaults.

For each variant ("ours": config.yml; "baseline": the config.yml `rasa init`
writes, empty pipeline and policies, so Rasa's default ones), on the same
data, domain, actions, endpoints and held-out file, in a fresh copy:
  1. full training (empty cache), then retraining after one added example;
  2. held-out accuracy (clinic.evaluate);
  3. the action server and Rasa server started, time to the first answer;
  4. `--runs` rounds of load (bench/load.py, a separate process) at 1 and at
     20 concurrent conversations: latency percentiles and throughput. The
     FAQ questions are the held-out ones (bench/traffic.py), dealt by a seed
     of the round and level, so both variants get the same messages. Each
     round starts with an empty NLU cache (bench/server.py), and within a
     round no question is sent twice; the cache's hit rate is measured;
  5. resident memory of both servers after the load;
  6. for ours, the load rounds again with the NLU cache off (NLU_CACHE_SIZE=0).
Figures are medians over the rounds; every message's latency is kept in the
JSON. `--only ours` measures one variant and keeps the other's last figures;
`--quick` (for development) runs one round and no retraining, and writes
test-artifacts/bench-quick.json instead of bench/results/latest.json.

    python -m bench.run [--runs 3] [--only ours] [--quick] [--seed 18]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import rasa
import requests

from bench.server import ROUTE, credentials_with_cache_route
from bench.traffic import SEED
from clinic.evaluate import HELDOUT
from cluster.launch import free_port
from tests.support.assistant import ACTION_SECRETS, endpoints_yml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
QUICK = ROOT / "test-artifacts" / "bench-quick.json"  # never replaces the full run's figures
# The config.yml that `rasa init` writes: empty pipeline and policies.
BASELINE_CONFIG = Path(rasa.__file__).parent / "cli" / "initial_project" / "config.yml"
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
# The one-example change of the retraining measurement.
NEW_EXAMPLE = ("- intent: faq_pain\n  examples: |\n", "    - would the needles sting a lot\n")
LOAD = {"c1": dict(concurrency=1, conversations=20), "c20": dict(concurrency=20, conversations=60)}
# The figures of a load run, also measured for ours without the NLU cache.
LOAD_KEYS = [f"{key}_{level}" for level in LOAD
             for key in ("p50_ms", "p95_ms", "p99_ms", "throughput")]
STARTUP_LIMIT_S = 300


def timed(command: List[str], cwd: Path, log: Path) -> float:
    started = time.perf_counter()
    with log.open("a") as out:
        subprocess.run(command, cwd=cwd, env=ENV, stdout=out, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - started


def project_copy(folder: Path, config: Path) -> Path:
    """The project's training input with the variant's config, and no cache."""
    folder.mkdir(parents=True)
    shutil.copy(config, folder / "config.yml")
    shutil.copy(ROOT / "domain.yml", folder / "domain.yml")
    shutil.copytree(ROOT / "data", folder / "data")
    (folder / "build").symlink_to(ROOT / "build")
    return folder


def train(folder: Path, retrain: bool = True) -> Dict[str, float]:
    """Full training, then retraining after adding one NLU example."""
    command = [str(BIN / "rasa"), "train", "--out", "models", "--fixed-model-name"]
    log = folder / "train.log"
    figures = {"train_s": timed(command + ["full"], folder, log)}
    if not retrain:
        return figures
    nlu = folder / "data" / "nlu.yml"
    anchor, example = NEW_EXAMPLE
    text = nlu.read_text(encoding="utf-8")
    assert anchor in text, f"{anchor!r} not in data/nlu.yml"
    nlu.write_text(text.replace(anchor, anchor + example, 1), encoding="utf-8")
    figures["retrain_s"] = timed(command + ["retrained"], folder, log)
    return figures


def accuracy(model: Path, folder: Path) -> Dict[str, float]:
    """Held-out accuracy, and the share answered with another topic."""
    out = folder / "accuracy.json"
    subprocess.run([sys.executable, "-m", "clinic.evaluate", "--model", str(model), "--data",
                    str(HELDOUT), "--json", str(out)],
                   cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)
    figures = json.loads(out.read_text())[HELDOUT.name]
    return {key: figures[key] for key in ("accuracy", "wrong_answer_rate")}


class Servers:
    """The action server and Rasa server of a variant, as `make run` starts them."""

    def __init__(self, model: Path, folder: Path, extra_env: Dict[str, str] | None = None) -> None:
        self.actions_port, self.rasa_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        endpoints = folder / "endpoints.yml"
        endpoints.write_text(endpoints_yml(self.actions_port, folder / "trackers.db"))
        env = {**ENV, **ACTION_SECRETS, "DATABASE_URL": f"sqlite:///{folder / 'clinic.db'}",
               **(extra_env or {})}
        self.log = (folder / "servers.log").open("w")
        self.started = time.perf_counter()
        self.processes = [
            subprocess.Popen([str(BIN / "rasa"), "run", "actions", "--port", str(self.actions_port),
                              "--actions", "actions"], cwd=ROOT, env=env,
                             stdout=self.log, stderr=subprocess.STDOUT),
            # with a route to read and empty the NLU cache (bench/server.py)
            subprocess.Popen([sys.executable, "-m", "rasa_patches", "run", "--model", str(model),
                              "--interface", "127.0.0.1", "--port", str(self.rasa_port),
                              "--endpoints", str(endpoints),
                              "--credentials", str(credentials_with_cache_route(folder))],
                             cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT),
        ]

    def first_answer_s(self) -> float:
        """Seconds from starting the processes to the first answer over REST."""
        webhook = f"{self.url}/webhooks/rest/webhook"
        while time.perf_counter() - self.started < STARTUP_LIMIT_S:
            if any(process.poll() is not None for process in self.processes):
                raise RuntimeError(f"a server exited; see {self.log.name}")
            try:
                reply = requests.post(webhook, json={"sender": "bench-start", "message": "hello"},
                                      timeout=10)
                if reply.ok and reply.json():
                    return time.perf_counter() - self.started
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"no answer within {STARTUP_LIMIT_S} s")

    def rss_mb(self) -> Dict[str, float]:
        def rss(pid: int) -> float:
            status = Path(f"/proc/{pid}/status").read_text()
            kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
            return int(kb) / 1024

        actions, rasa = (rss(process.pid) for process in self.processes)
        return {"rss_mb_rasa": rasa, "rss_mb_actions": actions, "rss_mb": rasa + actions}

    def nlu_cache(self, method: str = "GET") -> Dict[str, int]:
        """The NLU cache's size, hits and misses; DELETE empties it first."""
        reply = requests.request(method, self.url + ROUTE, timeout=10)
        reply.raise_for_status()
        return reply.json()

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.log.close()


def load(url: str, concurrency: int, conversations: int, seed: str) -> dict:
    """One round of bench/load.py, in its own process."""
    done = subprocess.run([sys.executable, "-m", "bench.load", url, "--concurrency",
                           str(concurrency), "--conversations", str(conversations),
                           "--seed", seed],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=1800)
    result = json.loads(done.stdout)
    if result["failures"]:
        raise RuntimeError(f"{len(result['failures'])} messages failed: {result['failures'][:5]}")
    return result


def percentiles(latencies: List[float]) -> Dict[str, float]:
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    return {"p50": p50, "p95": p95, "p99": p99}


def schedule(runs: int, seed: str) -> List[tuple[str, dict, str]]:
    """The load runs of a variant, in order: (level, shape, the seed of its
    messages). It depends on nothing of the variant: each gets the same."""
    return [(level, shape, f"{seed}/{number}/{level}")
            for number in range(runs) for level, shape in LOAD.items()]


def hit_rate(counts: Dict[str, int]) -> float | None:
    """The share of parsed messages the NLU cache answered (None: cache off)."""
    looked_up = counts["hits"] + counts["misses"]
    return counts["hits"] / looked_up if counts["size"] and looked_up else None


def serve(model: Path, folder: Path, runs: int, seed: str,
          extra_env: Dict[str, str] | None = None) -> dict:
    """Start-up, `runs` rounds of load at each level, then memory."""
    figures: Dict[str, object] = {}
    servers = Servers(model, folder, extra_env)
    rounds: Dict[str, List[dict]] = {level: [] for level in LOAD}
    try:
        figures["startup_s"] = servers.first_answer_s()
        for level, shape, messages in schedule(runs, seed):
            servers.nlu_cache("DELETE")  # no round answered from an earlier one's texts
            before = load_average()
            result = load(servers.url, **shape, seed=messages)
            result["nlu_cache"] = servers.nlu_cache()
            result["load_average"] = {"before": before, "after": load_average()}
            rounds[level].append(result)
        figures.update(servers.rss_mb())
    finally:
        servers.stop()
    for level, results in rounds.items():
        per_round = [percentiles(result["latencies_ms"]) for result in results]
        for key in ("p50", "p95", "p99"):
            figures[f"{key}_ms_{level}"] = statistics.median(r[key] for r in per_round)
        figures[f"throughput_{level}"] = statistics.median(
            result["answered"] / result["wall_s"] for result in results)
        rates = [hit_rate(result["nlu_cache"]) for result in results]
        if None not in rates:
            figures[f"nlu_cache_hit_rate_{level}"] = statistics.median(rates)
        figures[f"nlu_cache_{level}"] = [result["nlu_cache"] for result in results]
        figures[f"load_average_{level}"] = [result["load_average"] for result in results]
    figures["latencies_ms"] = {level: [round(x, 2) for r in results for x in r["latencies_ms"]]
                               for level, results in rounds.items()}
    return figures


def load_average() -> List[float]:
    """The machine's load average over 1, 5 and 15 minutes: other work on it."""
    return [round(value, 2) for value in os.getloadavg()]


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def measure(name: str, config: Path, workdir: Path, runs: int, seed: str,
            retrain: bool = True) -> dict:
    figures: Dict[str, object] = {"started": now(), "load_average_start": load_average()}
    folder = project_copy(workdir / name, config)
    print(f"[{name}] training{' (full, then after one added example)' if retrain else ''}...",
          flush=True)
    figures.update(train(folder, retrain))
    model = folder / "models" / "full.tar.gz"
    print(f"[{name}] held-out accuracy...", flush=True)
    figures.update(accuracy(model, folder))
    print(f"[{name}] serving: start-up, then {runs} rounds at 1 and 20 conversations...", flush=True)
    figures.update(serve(model, folder, runs, seed))
    if name == "ours":
        print(f"[{name}] serving again without the NLU cache...", flush=True)
        uncached = serve(model, folder, runs, seed, {"NLU_CACHE_SIZE": "0"})
        figures["without_nlu_cache"] = {key: uncached[key] for key in LOAD_KEYS}
    figures["rounds"] = runs
    figures["seed"] = seed
    figures["measured"] = now()
    figures["load_average_end"] = load_average()
    return figures


ROWS = [  # key, label, format, better when
    ("p50_ms_c1", "p50 latency, 1 conversation (ms)", "{:.1f}", "lower"),
    ("p95_ms_c1", "p95 latency, 1 conversation (ms)", "{:.1f}", "lower"),
    ("p99_ms_c1", "p99 latency, 1 conversation (ms)", "{:.1f}", "lower"),
    ("p50_ms_c20", "p50 latency, 20 conversations (ms)", "{:.1f}", "lower"),
    ("p95_ms_c20", "p95 latency, 20 conversations (ms)", "{:.1f}", "lower"),
    ("p99_ms_c20", "p99 latency, 20 conversations (ms)", "{:.1f}", "lower"),
    ("throughput_c1", "throughput, 1 conversation (msg/s)", "{:.1f}", "higher"),
    ("throughput_c20", "throughput, 20 conversations (msg/s)", "{:.1f}", "higher"),
    ("nlu_cache_hit_rate_c1", "NLU cache hit rate, 1 conversation", "{:.1%}", "higher"),
    ("nlu_cache_hit_rate_c20", "NLU cache hit rate, 20 conversations", "{:.1%}", "higher"),
    ("startup_s", "start to first answer (s)", "{:.1f}", "lower"),
    ("train_s", "full training (s)", "{:.0f}", "lower"),
    ("retrain_s", "retraining, one example added (s)", "{:.0f}", "lower"),
    ("rss_mb", "resident memory, both servers (MB)", "{:.0f}", "lower"),
    ("accuracy", "held-out intent accuracy", "{:.1%}", "higher"),
    ("wrong_answer_rate", "held-out answered with another topic", "{:.1%}", "lower"),
]


def table(results: Dict[str, dict]) -> str:
    """A Markdown table: ours, baseline and the ratio ours / baseline."""
    names = list(results)
    head = "| measure | " + " | ".join(names) + (" | ours / baseline |" if len(names) == 2 else " |")
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for key, label, fmt, _ in ROWS:
        cells = [fmt.format(results[name][key]) if key in results[name] else "not measured"
                 for name in names]
        if len(names) == 2:
            measured = all(key in results[name] for name in names)
            cells.append(f"{results['ours'][key] / results['baseline'][key]:.2f}"
                         if measured else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cache_table(ours: dict) -> str:
    """A Markdown table: ours with the NLU cache, without it, and the ratio."""
    without = ours["without_nlu_cache"]
    lines = ["| measure | with the cache | without | with / without |", "|---|---|---|---|"]
    for key, label, fmt, _ in ROWS:
        if key in without:
            lines.append(f"| {label} | {fmt.format(ours[key])} | {fmt.format(without[key])} | "
                         f"{ours[key] / without[key]:.2f} |")
    return "\n".join(lines)


def chart(results: Dict[str, dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for axis, level, title in ((axes[0], "c1", "1 conversation"), (axes[1], "c20", "20 conversations")):
        axis.boxplot([results[name]["latencies_ms"][level] for name in names], labels=names,
                     whis=(1, 99), showfliers=False)
        axis.set_yscale("log")
        axis.set_title(f"latency per message, {title}")
        axis.set_ylabel("ms (box: quartiles, whiskers: p1-p99)")
    axes[2].bar(names, [results[name]["throughput_c20"] for name in names], color=["#2a7", "#999"])
    axes[2].set_title("throughput, 20 conversations")
    axes[2].set_ylabel("messages per second")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="load rounds per variant (median)")
    parser.add_argument("--only", choices=["ours", "baseline"], help="measure one variant")
    parser.add_argument("--quick", action="store_true",
                        help="one round, no retraining; figures to " + str(QUICK.relative_to(ROOT)))
    parser.add_argument("--seed", default=SEED, help="the seed of the messages sent")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    variants = {"ours": ROOT / "config.yml", "baseline": BASELINE_CONFIG}
    if args.only:  # the other variant's figures are kept from the last run
        variants = {args.only: variants[args.only]}
    latest = QUICK if args.quick else RESULTS / "latest.json"
    results = json.loads(latest.read_text()) if args.only and latest.exists() else {}
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        for name, config in variants.items():
            results[name] = measure(name, config, Path(workdir), runs, args.seed,
                                    retrain=not args.quick)
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    latest.parent.mkdir(parents=True, exist_ok=True)  # bench/results, or test-artifacts
    latest.write_text(json.dumps(results, indent=1) + "\n")
    measured = {name: results[name] for name in ("ours", "baseline") if name in results}
    chart(measured, latest.with_suffix(".png"))
    print(table(measured))
    if "without_nlu_cache" in measured.get("ours", {}):
        print("\nOurs with and without the NLU cache, the same messages:\n")
        print(cache_table(measured["ours"]))
    for name, figures in measured.items():
        print(f"\n{name}: {figures.get('started')} to {figures['measured']}, load average "
              f"{figures.get('load_average_start')} at the start, "
              f"{figures.get('load_average_end')} at the end")
    print(f"\nFigures: {latest}; chart: {latest.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
