"""docs/staff.md's reference of the clinic command is its --help, verbatim,
and every clinic command the README and docs show is one the command takes."""
import argparse
import re
import shlex
from pathlib import Path
from typing import Iterator, List

import pytest

from clinic import docs
from clinic.cli import parser

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# `clinic faq add` in a sentence: the words up to the first that is not a
# (sub)command's name.
INLINE = re.compile(r"`(?:\.venv/bin/)?clinic ((?:[a-z]+ ?)+)")
FENCE = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def shown_command_lines() -> Iterator[str]:
    """The clinic command lines of the docs' shell examples, without the
    program's name and the comment."""
    for document in DOCUMENTS:
        for block in FENCE.findall(document.read_text(encoding="utf-8")):
            for line in block.splitlines():
                if ".venv/bin/clinic " in line:
                    yield line.split(".venv/bin/clinic ", 1)[1].split("#")[0].strip()


def subcommands(command: argparse.ArgumentParser) -> dict:
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def unknown_words(words: List[str]) -> List[str]:
    """The words of a command path that are no (sub)command of clinic."""
    command = parser()
    for index, word in enumerate(words):
        choices = subcommands(command)
        if not choices:
            return []
        if word not in choices:
            return words[index:]
        command = choices[word]
    return []


def test_the_staff_guides_reference_is_the_generated_help():
    section = docs.section(docs.STAFF_GUIDE.read_text(encoding="utf-8"))
    assert section == docs.generate(), "run: .venv/bin/python -m clinic.docs"


def test_the_generated_help_covers_every_command_with_an_example():
    generated = docs.generate()
    for command in ("faq list", "faq show", "faq add", "examples add", "check", "train",
                    "rollback", "review", "report"):
        heading = f"#### `clinic {command}`"
        assert heading in generated
        assert "Example:" in generated.split(heading)[1].split("####")[0], command


@pytest.mark.parametrize("line", sorted(set(shown_command_lines())))
def test_every_clinic_command_line_the_docs_show_is_accepted(line):
    parser().parse_args(shlex.split(line))  # argparse exits (SystemExit) on a misuse


def test_the_docs_show_the_staffs_daily_commands():
    shown = {" ".join(line.split()[:2]) for line in shown_command_lines()}
    assert {"bookings list", "review", "train", "rollback", "forget --contact"} <= shown


def test_every_clinic_command_the_docs_name_in_a_sentence_exists():
    unknown = {f"{document.name}: clinic {words}" for document in DOCUMENTS
               for words in INLINE.findall(document.read_text(encoding="utf-8"))
               if unknown_words(words.split())}
    assert not unknown


def test_a_misspelt_command_would_be_caught():
    assert unknown_words(["faq", "ad"]) == ["ad"]
    with pytest.raises(SystemExit):
        parser().parse_args(["bookings", "lsit"])
