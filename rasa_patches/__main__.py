"""Rasa's command line with this project's changes to Rasa installed first.

    python -m rasa_patches run --model models/assistant.tar.gz ...   (as `rasa run`)
    python -m rasa_patches shell --model models/assistant.tar.gz     (as `rasa shell`)

Every argument after `rasa_patches` goes to Rasa's own command line.
"""
from __future__ import annotations

import sys
from typing import List

import rasa_patches


def main(argv: List[str] | None = None) -> None:
    rasa_patches.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
