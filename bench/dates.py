"""Spanish and English days as visitors write them: what the booking form's
parser (parsedatetime, with Spanish day words said in English:
core/booking.py) reads, and what dateparser reads where it is installed
(docs/evaluation.md, "Spanish dates"; it is not a dependency of the
project: `pip install --no-deps dateparser==1.1.8` in a scratch copy of
the environment to compare).

    .venv/bin/python -m bench.dates
"""
import datetime
from zoneinfo import ZoneInfo

from core import booking
from core.knowledge import load_knowledge

NOW = datetime.datetime(2026, 12, 3, 10, 0)  # a Thursday
PHRASES = ["el próximo martes por la tarde", "mañana a las 10", "el viernes a las 11am",
           "pasado mañana en la mañana", "el 15 de enero a las 3", "el lunes",
           "proximo martes a las 2pm", "mañana en la tarde",
           "el jueves 18 de diciembre a las 4:30", "next tuesday afternoon", "tomorrow at 10",
           "martes 3pm", "el martes que viene"]


def ours(text: str) -> str:
    clinic = load_knowledge().clinic
    try:
        return booking.preferred_time(text, clinic, NOW.replace(
            tzinfo=ZoneInfo(clinic.timezone))).when.strftime("%a %d %b %Y %H:%M")
    except booking.Invalid as invalid:
        return invalid.response


def theirs(text: str) -> str:
    try:
        import dateparser
    except ImportError:
        return "(dateparser not installed)"
    parsed = dateparser.parse(text, languages=["es", "en"], settings={
        "RELATIVE_BASE": NOW, "PREFER_DATES_FROM": "future"})
    return parsed.strftime("%a %d %b %Y %H:%M") if parsed else "nothing"


def main() -> None:
    print(f"relative to {NOW:%A %d %B %Y %H:%M}")
    print(f"{'phrase':40} {'parsedatetime (ours)':22} dateparser")
    for text in PHRASES:
        print(f"{text:40} {ours(text):22} {theirs(text)}")


if __name__ == "__main__":
    main()
