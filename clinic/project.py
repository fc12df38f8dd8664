"""Where the staff commands find the project's files, and how they edit them.

The project is the folder of this code, or the one named by `clinic --project DIR`
or CLINIC_PROJECT (the tests work on a temporary copy). YAML files are edited
with ruamel.yaml's round-trip mode, so comments, key order and block styles
stay as the people who wrote them left them.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import LiteralScalarString

from core.language import ENGLISH, SPANISH

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {ENGLISH: "English", SPANISH: "Spanish"}  # --lang: the files of each


class Problem(Exception):
    """Something the staff member can fix; the message says how. Exit code 1."""


class Misuse(Exception):
    """The command was given wrong arguments; the message says how. Exit code 2."""


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def locate(cls, folder: str | None = None) -> "Project":
        root = Path(folder or os.environ.get("CLINIC_PROJECT") or ROOT).resolve()
        if not (root / "domain.yml").is_file() or not (root / "data" / "nlu.yml").is_file():
            raise Misuse(f"{root} is not the assistant's project folder (no domain.yml or "
                         "data/nlu.yml). Give the right folder with --project DIR.")
        return cls(root)

    knowledge_dir = property(lambda self: self.root / "knowledge")
    knowledge_file = property(lambda self: self.root / "knowledge" / "microneedling.yml")
    nlu = property(lambda self: self.root / "data" / "nlu.yml")
    rules = property(lambda self: self.root / "data" / "rules.yml")
    domain = property(lambda self: self.root / "domain.yml")
    heldout = property(lambda self: self.root / "tests" / "nlu_heldout.yml")
    red_flags_suite = property(lambda self: self.root / "tests" / "red_flags")
    models = property(lambda self: self.root / "models")
    served_model = property(lambda self: self.root / "models" / "assistant.tar.gz")
    history = property(lambda self: self.root / "models" / "history.json")

    def nlu_of(self, language: str = ENGLISH) -> Path:
        """The training examples in one language: data/nlu.yml, data/nlu.es.yml."""
        return self.nlu if language == ENGLISH else self.root / "data" / f"nlu.{language}.yml"

    def heldout_of(self, language: str = ENGLISH) -> Path:
        """The test questions in one language: tests/nlu_heldout.yml, tests/nlu_heldout.es.yml."""
        return self.heldout if language == ENGLISH else \
            self.root / "tests" / f"nlu_heldout.{language}.yml"

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def _null(representer, _):
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def yaml_editor(path: Path | None = None) -> YAML:
    """Round-trip YAML in the layout of the project's files: the data files
    put lists flush with their key, domain.yml and knowledge/ indent them;
    long lines are never folded; null stays `null`."""
    editor = YAML()
    indented = path is not None and (path.name == "domain.yml" or path.parent.name == "knowledge")
    editor.indent(mapping=2, sequence=4 if indented else 2, offset=2 if indented else 0)
    editor.width = 4096
    editor.preserve_quotes = True
    editor.representer.add_representer(type(None), _null)
    return editor


def read_yaml(path: Path):
    try:
        return yaml_editor(path).load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise Problem(f"cannot read {path} ({error.strerror}).") from error
    except Exception as error:  # ruamel's parser errors have no common public base
        raise Problem(f"{path} is not valid YAML: {error}. Undo the last hand edit of it.") \
            from error


def dump_yaml(data, path: Path) -> str:
    """The text of `data` in the layout of the file at `path`."""
    stream = io.StringIO()
    yaml_editor(path).dump(data, stream)
    return stream.getvalue()


def write_files(contents: Dict[Path, str]) -> None:
    """Write several files so that either all change or none: each is written
    beside its target first, then moved into place."""
    staged = []
    for path, text in contents.items():
        temporary = path.with_name(f".{path.name}.clinic-tmp")
        temporary.write_text(text, encoding="utf-8")
        staged.append((temporary, path))
    for temporary, path in staged:
        os.replace(temporary, path)


# ---- NLU examples ---------------------------------------------------------

def normalise(text: str) -> str:
    """Case, punctuation and spacing do not make a new example."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def example_lines(block: str) -> List[str]:
    return [line.strip()[2:].strip() for line in block.splitlines()
            if line.strip().startswith("- ")]


def examples_by_intent(path: Path) -> Dict[str, List[str]]:
    data = read_yaml(path)
    found: Dict[str, List[str]] = {}
    if not isinstance(data, dict) or not isinstance(data.get("nlu"), list):
        raise Problem(f"{path} has no list under nlu:. Undo the last hand edit of it.")
    for item in data["nlu"]:
        if not isinstance(item, dict):
            raise Problem(f"{path}: '{str(item)[:40]}' is not an 'intent:' block with "
                          "examples. Undo the last hand edit of it.")
        if "intent" in item:
            found.setdefault(str(item["intent"]), []).extend(
                example_lines(str(item.get("examples", ""))))
    return found


def add_examples(data, intent: str, texts: List[str]) -> None:
    """Append examples to the intent's block of a loaded NLU file (a new block
    at the end when the intent has none yet)."""
    items = data["nlu"]
    for item in items:
        if item.get("intent") == intent:
            block = str(item.get("examples", ""))
            if block and not block.endswith("\n"):
                block += "\n"
            item["examples"] = LiteralScalarString(block + "".join(f"- {t}\n" for t in texts))
            return
    items.append(CommentedMap(intent=intent, examples=LiteralScalarString(
        "".join(f"- {t}\n" for t in texts))))
    items.yaml_set_comment_before_after_key(len(items) - 1, before="\n", indent=0)


def clean_example(text: str) -> str:
    """One line of text, as an NLU example can hold it."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise Misuse("an example cannot be empty. Put each example in quotes: "
                     "clinic examples add faq_pain \"does it hurt?\"")
    if "[" in cleaned and "](" in cleaned:
        raise Misuse(f"'{cleaned}' looks like an entity annotation; this assistant uses none. "
                     "Write the question as a visitor would.")
    return cleaned


def examples_in(paths: List[Path]) -> Dict[str, List[str]]:
    """The examples of every file that exists, by intent: one model learns
    both languages, so a question may train only one intent in all of them."""
    found: Dict[str, List[str]] = {}
    for path in paths:
        if path.is_file():
            for intent, texts in examples_by_intent(path).items():
                found.setdefault(intent, []).extend(texts)
    return found


def pairs(path: Path) -> List[Tuple[str, str]]:
    return [(text, intent) for intent, texts in examples_by_intent(path).items()
            for text in texts]
