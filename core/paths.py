"""Where the project's files are: found from this code's location, never
from the current directory, so every server and tool finds the same ones."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The clinic's data; CLINIC_KNOWLEDGE_DIR points the servers at another copy
# (the tests' edited knowledge).
KNOWLEDGE_DIR = Path(os.environ.get("CLINIC_KNOWLEDGE_DIR", ROOT / "knowledge"))
VAR = ROOT / "var"  # the SQLite databases of `make run` and the staff tools; git ignores it
