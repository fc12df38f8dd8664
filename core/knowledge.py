"""The curated knowledge and the clinic profile, loaded and validated once.

Both files are data the clinic edits (knowledge/microneedling.yml and
knowledge/clinic.yml). A broken file fails loudly, with an error that names
the file, the topic and the field, so that a bad edit never reaches visitors.
"""
from __future__ import annotations

import datetime
import logging
import string
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Literal, Optional

import yaml
from pydantic import BaseModel, Extra, ValidationError, conint, constr, validator

from core.paths import KNOWLEDGE_DIR

TITLE_MAX = 20  # Messenger cuts quick-reply titles at 20 characters.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# The languages visitors are answered in; English is the contract's own.
LANGUAGES = ("en", "es")
DAY_NAMES = {"en": {day: day.capitalize() for day in WEEKDAYS},
             "es": dict(zip(WEEKDAYS, ("lunes", "martes", "miércoles", "jueves", "viernes",
                                       "sábado", "domingo")))}
CLOSED = {"en": "closed", "es": "cerrado"}

logger = logging.getLogger(__name__)
NonEmpty = constr(strip_whitespace=True, min_length=1)


class KnowledgeError(ValueError):
    """A knowledge or profile file breaks its contract."""


class OpeningHours(BaseModel, extra=Extra.forbid):
    confirmed: bool
    days: Dict[Literal[WEEKDAYS], constr(regex=r"^(closed|\d\d:\d\d-\d\d:\d\d)$")]  # type: ignore

    @validator("days")
    def every_weekday(cls, days):
        missing = [day for day in WEEKDAYS if day not in days]
        if missing:
            raise ValueError(f"missing days: {', '.join(missing)}")
        return days

    def text(self, language: str = "en") -> str:
        def hours(day: str) -> str:
            return CLOSED[language] if self.days[day] == "closed" else self.days[day]
        return "; ".join(f"{DAY_NAMES[language][day]} {hours(day)}" for day in WEEKDAYS)

    def open_on(self, when: datetime.datetime) -> Optional[tuple]:
        """(opening, closing) times of that day, or None when closed."""
        hours = self.days[WEEKDAYS[when.weekday()]]
        if hours == "closed":
            return None
        opening, closing = (datetime.time.fromisoformat(part) for part in hours.split("-"))
        return opening, closing

    def is_open(self, when: datetime.datetime) -> bool:
        hours = self.open_on(when)
        return hours is not None and hours[0] <= when.time() < hours[1]

    def next_opening(self, when: datetime.datetime) -> datetime.datetime:
        """When the clinic opens next after `when` (within a week)."""
        for days in range(8):
            day = when + datetime.timedelta(days=days)
            hours = self.open_on(day)
            if hours:
                opening = day.replace(hour=hours[0].hour, minute=hours[0].minute,
                                      second=0, microsecond=0)
                if opening > when:
                    return opening
        raise ValueError("the opening hours have no open day")


class Clinic(BaseModel, extra=Extra.forbid):
    name: NonEmpty
    phone: NonEmpty
    email: NonEmpty
    address: NonEmpty
    emergency_number: NonEmpty
    booking_link: Optional[str]
    privacy_url: Optional[str]
    timezone: NonEmpty
    phone_region: constr(regex=r"^[A-Z]{2}$")  # type: ignore
    retention_days: conint(ge=1)  # type: ignore
    opening_hours: OpeningHours

    def template_values(self, language: str = "en") -> Dict[str, str]:
        """The values `{clinic_...}` placeholders in answers and responses take."""
        ask = {"en": f"ask {self.name} at {self.email}",
               "es": f"pregunte a {self.name} en {self.email}"}[language]
        return {
            "clinic_name": self.name,
            "clinic_phone": self.phone,
            "clinic_email": self.email,
            "clinic_address": self.address,
            "clinic_emergency_number": self.emergency_number,
            "clinic_hours": self.opening_hours.text(language),
            "clinic_privacy": self.privacy_url or ask,
        }


Title = constr(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)


class Spanish(BaseModel, extra=Extra.forbid):
    """A topic's Spanish wording: the same facts as the English, shown to
    visitors writing in Spanish; `reviewed` once clinic staff confirmed it."""
    title: Title  # type: ignore
    answer: NonEmpty
    more: Optional[NonEmpty] = None
    reviewed: bool = False


class SpanishTitle(BaseModel, extra=Extra.forbid):
    title: Title  # type: ignore


class Topic(BaseModel, extra=Extra.forbid):
    id: constr(regex=r"^[a-z][a-z0-9_]*$")  # type: ignore
    intent: constr(regex=r"^[a-z][a-z0-9_]*$")  # type: ignore
    title: constr(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)  # type: ignore
    safety: Literal["answer", "consult"]
    answer: NonEmpty
    more: Optional[NonEmpty] = None  # what "tell me more" adds, from the same sources
    sources: List[constr(regex=r"^[\w.-]+\.txt$")]  # type: ignore
    related: List[str] = []
    review_by: Optional[datetime.date]
    es: Optional[Spanish] = None

    @validator("sources")
    def has_sources(cls, sources):
        if not sources:
            raise ValueError("at least one source document is required")
        return sources


class ClinicTopic(BaseModel, extra=Extra.forbid):
    intent: constr(regex=r"^[a-z][a-z0-9_]*$")  # type: ignore
    title: constr(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)  # type: ignore
    es: Optional[SpanishTitle] = None


class Knowledge:
    """The FAQ topics, keyed by intent, with the clinic profile filled in."""

    def __init__(self, topics: List[Topic], clinic_topics: List[ClinicTopic],
                 suggested: List[str], clinic: Clinic) -> None:
        self.topics = topics
        self.clinic = clinic
        self.values = clinic.template_values()
        self.values_in = {language: clinic.template_values(language) for language in LANGUAGES}
        self.by_id = {topic.id: topic for topic in topics}
        self.by_intent = {topic.intent: topic for topic in topics}
        self.titles = {topic.intent: topic.title for topic in topics}
        self.titles.update({extra.intent: extra.title for extra in clinic_topics})
        self.titles_es = {**self.titles, **{topic.intent: topic.es.title for topic in topics
                                            if topic.es}}
        self.titles_es.update({extra.intent: extra.es.title for extra in clinic_topics
                               if extra.es})
        self.suggested = [self.by_id[topic_id] for topic_id in suggested]
        self.source: Optional[tuple] = None  # (directory, modification times) once loaded

    def refresh(self) -> bool:
        """Take in the files' changes (staff added a topic with `clinic faq add`)
        without a restart; a broken edit is logged and the current knowledge kept."""
        if self.source is None:
            return False
        directory, stamp = self.source
        if _stamp(directory) == stamp:
            return False
        try:
            fresh = load_knowledge.__wrapped__(directory)
        except KnowledgeError as error:
            logger.error("knowledge_reload_failed: %s", error)
            self.source = (directory, _stamp(directory))  # say it once, not every message
            return False
        self.__dict__.update(fresh.__dict__)
        logger.info("knowledge_reloaded topics=%d", len(self.topics))
        return True

    def answer(self, topic: Topic, language: str = "en") -> str:
        """The topic's answer in `language`; in English where no Spanish is written yet."""
        if language == "es" and topic.es:
            return topic.es.answer.format(**self.values_in["es"])
        return topic.answer.format(**self.values)

    def more(self, topic: Topic, language: str = "en") -> Optional[str]:
        if language == "es" and topic.es and topic.es.more:
            return topic.es.more.format(**self.values_in["es"])
        return topic.more.format(**self.values) if topic.more else None

    def unreviewed(self) -> List[Topic]:
        """Topics whose Spanish wording clinic staff have not confirmed yet."""
        return [topic for topic in self.topics if topic.es and not topic.es.reviewed]

    def related(self, topic: Topic) -> List[Topic]:
        return [self.by_id[topic_id] for topic_id in topic.related]

    @staticmethod
    def button(title: str, intent: str) -> Dict[str, str]:
        return {"title": title, "payload": f"/{intent}"}

    def buttons(self, intents: List[str], language: str = "en") -> List[Dict[str, str]]:
        titles = self.titles_es if language == "es" else self.titles
        return [self.button(titles[intent], intent) for intent in intents]


def _read_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as error:
        raise KnowledgeError(f"{path}: cannot be read ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise KnowledgeError(f"{path}: is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise KnowledgeError(f"{path}: must be a mapping of keys to values")
    return data


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"field '{'.'.join(str(part) for part in problem['loc'])}': {problem['msg']}"
        for problem in error.errors()
    )


def load_clinic(path: Path) -> Clinic:
    try:
        return Clinic.parse_obj(_read_yaml(path))
    except ValidationError as error:
        raise KnowledgeError(f"{path}: {_problems(error)}") from None


def _parse_topic(path: Path, index: int, raw: object) -> Topic:
    name = raw.get("id", f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
    try:
        return Topic.parse_obj(raw)
    except ValidationError as error:
        raise KnowledgeError(f"{path}: topic '{name}': {_problems(error)}") from None


def _check_references(path: Path, topics: List[Topic], clinic: Clinic) -> None:
    ids = {topic.id for topic in topics}
    seen_intents = set()
    for topic in topics:
        where = f"{path}: topic '{topic.id}'"
        if topic.intent in seen_intents:
            raise KnowledgeError(f"{where}: field 'intent': '{topic.intent}' is used twice")
        seen_intents.add(topic.intent)
        unknown = [related for related in topic.related if related not in ids or related == topic.id]
        if unknown:
            raise KnowledgeError(f"{where}: field 'related': unknown topics {unknown}")
        wordings = [("answer", topic.answer), ("more", topic.more)]
        if topic.es:
            wordings += [("es.answer", topic.es.answer), ("es.more", topic.es.more)]
        for field, text in wordings:
            text = text or ""
            fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            unknown = sorted(fields - set(clinic.template_values()))
            if unknown:
                raise KnowledgeError(f"{where}: field '{field}': unknown placeholders {unknown}")
    if len(ids) != len(topics):
        raise KnowledgeError(f"{path}: two topics share an id")


def _stamp(directory: Path) -> tuple:
    """When the files last changed, and their sizes (clock ticks are coarse)."""
    stamps = []
    for name in ("microneedling.yml", "clinic.yml"):
        try:
            status = (directory / name).stat()
            stamps.append((status.st_mtime_ns, status.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


@lru_cache(maxsize=None)  # the Rasa server's channel and tracker store share one load
def load_knowledge(directory: Path = KNOWLEDGE_DIR) -> Knowledge:
    """Load and validate knowledge/microneedling.yml and knowledge/clinic.yml."""
    stamp = _stamp(directory)
    clinic = load_clinic(directory / "clinic.yml")
    path = directory / "microneedling.yml"
    data = _read_yaml(path)
    if not isinstance(data.get("topics"), list) or not data["topics"]:
        raise KnowledgeError(f"{path}: field 'topics': a list of topics is required")
    topics = [_parse_topic(path, index, raw) for index, raw in enumerate(data["topics"])]
    _check_references(path, topics, clinic)
    try:
        clinic_topics = [ClinicTopic.parse_obj(raw) for raw in data.get("clinic_topics", [])]
    except ValidationError as error:
        raise KnowledgeError(f"{path}: clinic_topics: {_problems(error)}") from None
    suggested = data.get("suggested", [])
    unknown = [topic_id for topic_id in suggested if topic_id not in {t.id for t in topics}]
    if unknown:
        raise KnowledgeError(f"{path}: field 'suggested': unknown topics {unknown}")
    knowledge = Knowledge(topics, clinic_topics, suggested, clinic)
    knowledge.source = (directory, stamp)
    return knowledge
