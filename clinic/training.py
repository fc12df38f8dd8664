"""`clinic train` and `clinic rollback`: a new model goes into service only
if it is not worse than the one in service.

"In service" is models/assistant.tar.gz, the model `make run` starts and
`make test` uses. Every model that was in service is kept as
models/model-<time>.tar.gz, and models/history.json lists them with their
scores (newest last), so `clinic rollback` can return to the previous one.

A new model is put in service when, measured on the same test data as the
model in service:
- every message of the must-never-miss suites (tests/red_flags/urgent.yml,
  urgent.es.yml) gets the urgent reply,
- no normal reaction (tests/red_flags/normal.yml, normal.es.yml) is escalated,
- held-out accuracy (tests/nlu_heldout.yml and nlu_heldout.es.yml together)
  is at most TOLERANCE lower; the table shows the Spanish part on its own.
TOLERANCE is one percentage point, four or five of the held-out
messages: a new topic's examples may take a message or two from a
look-alike topic without the model being worse. The classifier (logistic
regression, components/linear_intent.py) trains the same model from the
same data, so the difference between two models is the data's, not chance.

A running Rasa server then loads the new model through its HTTP API
(PUT /model), when RASA_API_TOKEN is set (the server must be started with
`--enable-api --auth-token` and the same token; scripts/run does so when
RASA_API_TOKEN is set). RASA_SERVER_URL says where it is (default
http://localhost:5005). Conversations live in the tracker store, not in the
model, so they continue across the swap.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import yaml

from clinic.project import Problem, Project
from core.language import SPANISH

TOLERANCE = 0.01
RELOAD_TIMEOUT_S = 180  # loading a model takes 10-30 s on 2 cores
DEFAULT_SERVER = "http://localhost:5005"


@dataclass
class Scores:
    accuracy: float
    wrong_answer_rate: float
    fallback_rate: float
    heldout: int
    urgent_answered: int
    urgent_total: int
    normal_escalated: int
    normal_total: int
    spanish_accuracy: Optional[float] = None  # of the Spanish held-out questions, if any
    spanish_heldout: int = 0


def _suite(project: Project, name: str) -> List[str]:
    """The must-never-miss messages of both languages: urgent.yml and urgent.es.yml."""
    texts = []
    for path in (project.red_flags_suite / f"{name}.yml",
                 project.red_flags_suite / f"{name}.es.yml"):
        if path.is_file():
            texts += [str(text) for text in yaml.safe_load(path.read_text(encoding="utf-8")) or []]
    return texts


def score(project: Project, model: Path) -> Scores:
    """Held-out accuracy and the must-never-miss suite, through the model's NLU
    (the urgent-symptom gate is its last component; rules turn an urgent
    intent into the urgent reply)."""
    from clinic.evaluate import Evaluation, load_heldout, predict

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    spanish = project.heldout_of(SPANISH)
    heldout = load_heldout(project.heldout)
    heldout_es = load_heldout(spanish) if spanish.is_file() else []
    heldout += heldout_es
    urgent, normal = _suite(project, "urgent"), _suite(project, "normal")
    texts = [text for text, _ in heldout] + urgent + normal
    here = Path.cwd()
    os.chdir(project.root)  # config.yml names the spaCy pipeline relative to the project
    try:
        with _quiet(project.models / "evaluation.log"):
            guesses = predict(model.resolve(), texts)
    finally:
        os.chdir(here)
    evaluation = Evaluation([(text, intent, guess) for (text, intent), guess
                             in zip(heldout, guesses[:len(heldout)])])
    escalated = [guess.startswith("urgent_") for guess in guesses[len(heldout):]]
    in_spanish = Evaluation(evaluation.results[len(heldout) - len(heldout_es):])
    return Scores(accuracy=evaluation.accuracy, wrong_answer_rate=evaluation.wrong_answer_rate,
                  fallback_rate=evaluation.fallback_rate, heldout=evaluation.total,
                  urgent_answered=sum(escalated[:len(urgent)]), urgent_total=len(urgent),
                  normal_escalated=sum(escalated[len(urgent):]), normal_total=len(normal),
                  spanish_accuracy=in_spanish.accuracy if heldout_es else None,
                  spanish_heldout=len(heldout_es))


@contextmanager
def _quiet(log: Path) -> Iterator[None]:
    """TensorFlow's and Rasa's warnings go to `log`, not to the staff's screen
    (file descriptor 2: TensorFlow, which Rasa imports although this pipeline
    runs no TensorFlow model, writes there from C++ too)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with log.open("a") as handle:
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def verdict(new: Scores, served: Optional[Scores]) -> List[str]:
    """Why the new model must not go into service (empty: it may)."""
    reasons = []
    if new.urgent_answered < new.urgent_total:
        reasons.append(f"it misses {new.urgent_total - new.urgent_answered} urgent message(s) "
                       "of the must-never-miss suite")
    if new.normal_escalated:
        reasons.append(f"it escalates {new.normal_escalated} normal reaction(s) as urgent")
    if served and new.accuracy < served.accuracy - TOLERANCE:
        reasons.append(f"its held-out accuracy is {100 * (served.accuracy - new.accuracy):.1f} "
                       f"points lower (more than the {100 * TOLERANCE:.0f} point tolerance)")
    return reasons


def table(new: Scores, served: Optional[Scores]) -> str:
    def percent(value: float) -> str:
        return f"{100 * value:.1f} %"

    rows = [("held-out accuracy", lambda s: percent(s.accuracy)),
            ("  in Spanish", lambda s: percent(s.spanish_accuracy)
             if s.spanish_accuracy is not None else "none"),
            ("wrong-answer rate", lambda s: percent(s.wrong_answer_rate)),
            ("did-you-mean rate", lambda s: percent(s.fallback_rate)),
            ("urgent answered urgently", lambda s: f"{s.urgent_answered} of {s.urgent_total}"),
            ("normal escalated", lambda s: f"{s.normal_escalated} of {s.normal_total}")]
    lines = [f"{'':26}{'in service':>14}{'new':>14}"]
    for label, show in rows:
        lines.append(f"{label:26}{show(served) if served else 'none':>14}{show(new):>14}")
    return "\n".join(lines)


# ---- the history of served models -------------------------------------------

def read_history(project: Project) -> List[Dict]:
    if not project.history.is_file():
        return []
    try:
        return json.loads(project.history.read_text(encoding="utf-8"))["served"]
    except (ValueError, KeyError) as error:
        raise Problem(f"{project.history} is damaged ({error}); restore it from a backup or "
                      "delete it (the model history starts again).") from None


def write_history(project: Project, served: List[Dict]) -> None:
    temporary = project.history.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"served": served}, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, project.history)


def _stamp(when: Optional[datetime.datetime] = None) -> str:
    return (when or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")


def put_in_service(project: Project, model: Path) -> None:
    """Copy the model to models/assistant.tar.gz (atomically: a server
    starting meanwhile reads the old or the new file, never half of one)."""
    temporary = project.served_model.with_name(".assistant.tar.gz.tmp")
    shutil.copyfile(model, temporary)
    os.replace(temporary, project.served_model)


def _keep_unrecorded_served(project: Project, history: List[Dict], scores: Scores) -> None:
    """A model in service that no `clinic train` recorded (trained by make
    before make went through the gate, or copied in by hand) joins the
    history, so that a rollback can return to it."""
    if history or not project.served_model.is_file():
        return
    made = datetime.datetime.fromtimestamp(project.served_model.stat().st_mtime)
    kept = project.models / f"model-{_stamp(made)}.tar.gz"
    shutil.copyfile(project.served_model, kept)
    history.append({"model": project.relative(kept), "served_at": made.isoformat(
        timespec="seconds"), "scores": asdict(scores), "note": "trained by make"})


# ---- training ---------------------------------------------------------------

PROGRESS = re.compile(r"Starting to train component '(\w+)'|Epochs:\s+(\d+)%")


def rasa_train(project: Project, name: str, log: Path, validated: bool = False) -> Path:
    """`rasa train` in the project, its output in `log`, progress on screen.
    `validated`: `rasa data validate` has just passed (clinic check), so
    `rasa train` does not check the same files again (about 5 s)."""
    rasa = Path(sys.executable).parent / "rasa"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONWARNINGS": "ignore"}
    command = [str(rasa), "train", "--out", str(project.models), "--fixed-model-name", name]
    if validated:
        command.append("--skip-validation")
    shown = ""
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(command, cwd=project.root, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, bufsize=1)
        buffer = ""
        assert process.stdout is not None
        while True:
            chunk = process.stdout.read(256)
            if not chunk:
                break
            output.write(chunk)
            output.flush()
            buffer += chunk
            *pieces, buffer = re.split(r"[\r\n]", buffer)
            for piece in pieces:
                match = PROGRESS.search(piece)
                if match and match.group(1):
                    component = match.group(1)
                    line = ("  learning the rules of the conversation" if "Policy" in component
                            else "  training the intent classifier" if "IntentClassifier" in
                            component else "  reading the example questions")
                elif match:
                    line = f"  training the intent classifier: {match.group(2)} %"
                else:
                    continue
                if line != shown:
                    end = "\r" if match.group(2) and sys.stdout.isatty() else "\n"
                    if not match.group(2) or sys.stdout.isatty() or \
                            int(match.group(2)) % 25 == 0:
                        print(line.ljust(50), end=end, flush=True)
                    shown = line
        process.wait()
    print()
    model = project.models / f"{name}.tar.gz"
    if process.returncode != 0 or not model.is_file():
        raise Problem(f"training failed (exit code {process.returncode}); the model in service "
                      f"is unchanged. The last lines of {project.relative(log)} say why.")
    return model


def reload_server(model: Path) -> str:
    """Ask the running Rasa server to load `model`; a sentence saying what happened."""
    token = os.environ.get("RASA_API_TOKEN")
    server = os.environ.get("RASA_SERVER_URL", DEFAULT_SERVER).rstrip("/")
    if not token:
        return ("No running server was told (RASA_API_TOKEN is not set): make run uses this "
                "model from its next start.")
    import requests

    try:
        response = requests.put(f"{server}/model", params={"token": token},
                                json={"model_file": str(model.resolve())},
                                timeout=RELOAD_TIMEOUT_S)
    except requests.RequestException as error:
        raise Problem(f"the server at {server} could not be reached ({type(error).__name__}); "
                      "the model is in service for its next start. Start it (make run) or "
                      "set RASA_SERVER_URL.") from None
    if response.status_code in (401, 403):
        raise Problem(f"the server at {server} refused RASA_API_TOKEN (HTTP "
                      f"{response.status_code}); use the token the server was started with.")
    if response.status_code != 204:
        raise Problem(f"the server at {server} did not load the model (HTTP "
                      f"{response.status_code}); it keeps the previous one until restarted.")
    return f"The running server at {server} now answers with this model."


def train(project: Project, check: bool = True) -> int:
    from clinic import checks

    if check:
        print("Step 1 of 4: checking the data...", flush=True)
        findings = checks.check(project)
        if findings.problems:
            print(findings.text())
            raise Problem("nothing was trained. Fix the problems above, then run "
                          "clinic train again.")
        if findings.review:
            print(findings.text())
    project.models.mkdir(exist_ok=True)
    name = f"model-{_stamp()}"
    print(f"Step 2 of 4: training {name} (about a minute)...", flush=True)
    model = rasa_train(project, name, project.models / f"{name}.log", validated=check)
    print("Step 3 of 4: measuring the new model and the one in service...", flush=True)
    new = score(project, model)
    served = score(project, project.served_model) if project.served_model.is_file() else None
    print(table(new, served))
    reasons = verdict(new, served)
    history = read_history(project)
    if reasons:
        model.unlink()
        print("The new model is NOT put in service: " + "; ".join(reasons) + ".")
        print("The assistant keeps the model in service. Look at the examples you added "
              "(clinic faq show TOPIC) and at clinic check.")
        return 1
    if served:
        _keep_unrecorded_served(project, history, served)
    print("Step 4 of 4: putting the new model in service...", flush=True)
    put_in_service(project, model)
    history.append({"model": project.relative(model), "served_at": datetime.datetime.now()
                    .isoformat(timespec="seconds"), "scores": asdict(new)})
    write_history(project, history)
    print(f"In service: {project.relative(model)} (as models/assistant.tar.gz).")
    print(reload_server(model))
    return 0


def rollback(project: Project) -> int:
    history = read_history(project)
    if len(history) < 2:
        raise Problem("there is no previous model to return to: models/history.json lists "
                      f"{len(history)} model(s) in service. Train one first (clinic train).")
    current, previous = history[-1], history[-2]
    model = project.root / previous["model"]
    if not model.is_file():
        raise Problem(f"{previous['model']} is missing, so it cannot be put back in service.")
    put_in_service(project, model)
    write_history(project, history[:-1])
    print(f"Back in service: {previous['model']} (was {current['model']}, which is kept).")
    print(reload_server(model))
    return 0
