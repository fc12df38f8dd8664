"""How well the language tagger tells English and Spanish, against lingua
alone and the small words alone, on the blind sets' messages and turns
(docs/evaluation.md, "Telling the language").

    .venv/bin/python -m bench.language

A message's expected language is its set's (folder `es-*`: Spanish), or a
turn's `lang`; messages labelled other_language are left out. Reported per
language: the share each way of telling tags right, tags as the other
language (the harm: the reply comes in the wrong language), and leaves
untagged (the conversation keeps its language), for all messages and for
messages of three words or fewer.
"""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from clinic.blind import BLIND, ROOT, language_of_set, load_set
from clinic.evaluate import load_heldout
from components.language import LINGUA_NAMES, LanguageTagger, lingua
from core.language import WORD, tells

SHORT_WORDS = 3


def messages_of(folder: Path) -> List[Tuple[str, str]]:
    """(text, expected language) of a set's messages and conversation turns."""
    language = language_of_set(folder)
    messages, conversations = load_set(folder)
    found = [(m["text"], language) for m in messages if m.get("expect") != "other_language"]
    for conversation in conversations:
        current = language
        for turn in conversation["turns"]:
            current = turn.get("lang", current)
            if "other_language" not in str(turn.get("expect")):
                found.append((turn["user"], current))
    return found


def lingua_alone(text: str) -> Optional[str]:
    """lingua's language, where sure: a third one counts as the other."""
    name = lingua(text, LanguageTagger.get_default_config()["min_confidence"])
    return LINGUA_NAMES.get(name, name) if name else None


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--set", action="append", help="a folder of tests/blind/ (default: all)")
    sets = [BLIND / name for name in arguments.parse_args().set or []] or sorted(
        folder for folder in BLIND.iterdir() if folder.is_dir())
    tagger = LanguageTagger({})  # with the words it learns from the training examples
    tagger.learn([text for path in sorted((ROOT / "data").glob("nlu*.yml"))
                  for text, _ in load_heldout(path)])
    ways: Dict[str, Callable[[str], Optional[str]]] = {
        "tagger": tagger.language, "lingua alone": lingua_alone, "small words alone": tells}
    messages = [message for folder in sets for message in messages_of(folder)]
    print(f"{len(messages)} messages of {', '.join(folder.name for folder in sets)}")
    for language in sorted({expected for _, expected in messages}):
        for short in (False, True):
            chosen = [text for text, expected in messages if expected == language
                      and (not short or len(WORD.findall(text)) <= SHORT_WORDS)]
            label = f"{language}, {'≤3 words' if short else 'all'} ({len(chosen)})"
            for name, way in ways.items():
                counts = Counter(way(text) for text in chosen)
                other = sum(n for tag, n in counts.items() if tag not in (language, None))
                print(f"{label:22} {name:18} right {counts[language] / len(chosen):6.1%}  "
                      f"other {other / len(chosen):6.1%}  untagged {counts[None] / len(chosen):6.1%}")


if __name__ == "__main__":
    main()
