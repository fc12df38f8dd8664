"""The credentials file the Rasa server starts with: credentials.yml (the
web channels, no secrets) plus each channel of credentials.channels.yml
whose environment variables are set.

Rasa substitutes an unquoted ${VAR} when it reads the file and refuses to
start if VAR is unset, so a channel whose variables are all unset is left
out (`make run` needs no secrets) and a channel with some of them set is
kept, so that Rasa names the missing ones. An empty value is refused by the
channel itself (channels/webhooks.py `required`). The file written keeps
the ${VAR} references: no secret is written to disk.

    python -m channels.credentials [OUT]   writes OUT (var/credentials.yml)
"""
import os
import re
import sys
from pathlib import Path
from typing import Dict, List, Mapping

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "credentials.yml"
CHANNELS = ROOT / "credentials.channels.yml"
OUT = ROOT / "var" / "credentials.yml"
VARIABLE = re.compile(r"\$\{(\w+)\}")
TOP_LEVEL = re.compile(r"^[^\s#][^:]*:")
COMMENT = re.compile(r"(?m)^\s*#.*$")


def sections(text: str) -> Dict[str, str]:
    """The top-level sections of a YAML mapping, as text, keyed by their key."""
    found: Dict[str, List[str]] = {}
    current, between = None, []  # comments and blank lines go with the next section
    for line in text.splitlines(keepends=True):
        if TOP_LEVEL.match(line):
            current = line.split(":", 1)[0].strip()
            found[current], between = between + [line], []
        elif not line.strip() or line.startswith("#"):
            between.append(line)
        elif current is not None:
            found[current] += between + [line]
            between = []
    return {key: "".join(lines) for key, lines in found.items()}


def enabled(text: str, environ: Mapping[str, str]) -> Dict[str, str]:
    """The channel sections of `text` with at least one variable set."""
    return {key: section for key, section in sections(text).items()
            if any(name in environ for name in VARIABLE.findall(COMMENT.sub("", section)))}


def merged(environ: Mapping[str, str]) -> str:
    text = BASE.read_text(encoding="utf-8").rstrip("\n") + "\n"
    for section in enabled(CHANNELS.read_text(encoding="utf-8"), environ).values():
        text += "\n" + section.strip("\n") + "\n"
    return text


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(merged(os.environ), encoding="utf-8")
    names = sorted(enabled(CHANNELS.read_text(encoding="utf-8"), os.environ))
    print(", ".join(key.rsplit(".", 1)[-1] for key in names) or "no platform channel")


if __name__ == "__main__":
    main()
