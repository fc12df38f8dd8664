"""The load generator of `make bench` against the running assistant: every
message of its conversations is answered (the figures themselves are the
benchmark's, not a test's)."""
import json
import subprocess
import sys

from tests.conftest import ENV, ROOT
from bench import load, run


def test_the_load_generator_gets_an_answer_to_every_message(assistant):
    done = subprocess.run([sys.executable, "-m", "bench.load", assistant.url, "--concurrency",
                           "2", "--conversations", "2"],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    result = json.loads(done.stdout)
    assert done.returncode == 0, result["failures"]
    assert result["answered"] == result["messages"] == 2 * len(load.TURNS)
    assert len(result["latencies_ms"]) == result["answered"]


def test_the_table_gives_the_ratio_of_ours_to_the_baseline():
    ours = {key: 2.0 for key, *_ in run.ROWS}
    baseline = {key: 4.0 for key, *_ in run.ROWS}
    lines = run.table({"ours": ours, "baseline": baseline}).splitlines()
    assert lines[0] == "| measure | ours | baseline | ours / baseline |"
    assert len(lines) == 2 + len(run.ROWS)
    assert all(line.endswith("| 0.50 |") for line in lines[2:])
