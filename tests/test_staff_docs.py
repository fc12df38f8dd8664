"""The README's reference of the clinic command is its --help, verbatim."""
import pytest

from clinic import docs

pytestmark = pytest.mark.unit


def test_the_readme_section_for_staff_is_the_generated_help():
    section = docs.section(docs.README.read_text(encoding="utf-8"))
    assert section == docs.generate(), "run: .venv/bin/python -m clinic.docs"


def test_the_generated_help_covers_every_command_with_an_example():
    generated = docs.generate()
    for command in ("faq list", "faq show", "faq add", "examples add", "check", "train",
                    "rollback", "review", "report"):
        heading = f"#### `clinic {command}`"
        assert heading in generated
        assert "Example:" in generated.split(heading)[1].split("####")[0], command
