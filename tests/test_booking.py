"""The booking validators and the booking store, without servers."""
import contextlib
import datetime
import json
import subprocess
import uuid
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

import migrations
from core import booking, notify, store
from actions.actions import KNOWLEDGE
from cluster.launch import free_port
from tests.support.project import ENV, VENV_BIN

CLINIC = KNOWLEDGE.clinic
# The same clinic once its (today placeholder) Mon-Fri 9-17 hours are confirmed.
OPEN_MON_FRI = CLINIC.copy(update={"opening_hours": CLINIC.opening_hours.copy(update={"confirmed": True})})
# A Saturday morning in the clinic's time zone.
NOW = datetime.datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo(CLINIC.timezone))
POSTGRES = "postgresql://postgres@127.0.0.1:5432"  # the machine's server


@pytest.mark.unit
@pytest.mark.parametrize("text, expected", [
    ("Maria Lopez", "Maria Lopez"), ("  O'Brien-Smith ", "O'Brien-Smith"),
    ("张伟", "张伟"), ("José   María", "José María"), ("محمد", "محمد"),
])
def test_names_are_kept_tidy(text, expected):
    assert booking.name(text) == expected


@pytest.mark.unit
@pytest.mark.parametrize("text, expected", [  # NOW is Saturday 21 November 2026, 10:00
    ("el próximo martes por la tarde", "martes 24 de noviembre de 2026 a las 14:00"),
    ("mañana a las 10", "domingo 22 de noviembre de 2026 a las 10:00"),
    ("el viernes a las 11am", "viernes 27 de noviembre de 2026 a las 11:00"),
    ("pasado manana en la mañana", "lunes 23 de noviembre de 2026 a las 09:00"),
    ("el 15 de enero a las 3", "viernes 15 de enero de 2027 a las 15:00"),
    ("el lunes", "lunes 23 de noviembre de 2026, a cualquier hora"),
    ("el miercoles que viene a la 1", "miércoles 25 de noviembre de 2026 a las 13:00"),
    ("el 20 del próximo mes en la mañana", "domingo 20 de diciembre de 2026 a las 09:00"),
    ("el 15 de enero en la mañana", "viernes 15 de enero de 2027 a las 09:00"),
])
def test_days_and_times_written_in_spanish_are_read_and_said_back_in_spanish(text, expected):
    assert booking.preferred_time(text, CLINIC, NOW).text("es") == expected


@pytest.mark.unit
def test_english_days_read_as_before_and_a_past_spanish_day_is_refused():
    assert booking.preferred_time("next Tuesday afternoon", CLINIC, NOW).text() == \
        "Tuesday 24 November 2026 at 2:00 PM"
    assert booking.preferred_time("the day after tomorrow at 9", CLINIC, NOW).text() == \
        "Monday 23 November 2026 at 9:00 AM"
    assert booking.preferred_time("tmrw afternoon", CLINIC, NOW).text() == \
        "Sunday 22 November 2026 at 2:00 PM"
    assert booking.preferred_time("the 3rd of next month at 10am", CLINIC, NOW).text() == \
        "Thursday 3 December 2026 at 10:00 AM"
    for past in ("hoy a las 8am", "ayer a las 3", "antier en la tarde", "el lunes pasado"):
        with pytest.raises(booking.Invalid) as refused:
            booking.preferred_time(past, CLINIC, NOW)
        assert refused.value.response == "utter_invalid_preferred_time_past", past


@pytest.mark.unit
@pytest.mark.parametrize("text, rest", [
    ("acne scars. sorry my Spanish is not great, can we do this in English?", "acne scars."),
    ("sorry, can we do this in English? acne scars on my cheeks", "acne scars on my cheeks"),
    ("can we do this in English?", ""),
    ("can we do this in English? it's easier for me", ""),
    ("Ana Ruiz. sorry, can we switch to English? my Spanish is not good", "Ana Ruiz."),
    ("cicatrices, ¿me hablas en español?", "cicatrices"),
    ("my face please, sorry I prefer English", "my face please"),
    ("acne scars", None),
])
def test_a_request_for_the_other_language_is_no_part_of_the_answer(text, rest):
    assert booking.without_language_request(text) == rest


@pytest.mark.unit
def test_spanish_answers_at_the_form_steps():
    assert all(booking.agrees(text) for text in ["sí", "si claro", "Dale", "de acuerdo", "está bien"])
    assert not booking.agrees("sí, pero ¿cuánto cuesta?")
    assert all(booking.refuses(text) for text in ["no gracias", "mejor no", "no quiero",
                                                  "mmm guardar mis datos? no, mejor no"])
    assert not booking.refuses("ahorita no tengo brote, eso importa?")
    assert not booking.refuses("antes de decirte que sí, ¿cuánto tiempo de recuperación es? "
                               "no puedo faltar al trabajo")  # a reason, not a refusal
    assert booking.agrees("bueno si, pueden guardar mis datos")
    assert all(booking.asks_to_change(text) for text in ["cambia mi teléfono", "el nombre está mal"])
    assert all(booking.asks_to_resume(text) for text in ["sigamos", "ok, continuar", "adelante", "continuamos"])
    assert all(booking.looks_like_question(text) for text in
               ["espera, cuanto dura la recuperacion", "¿duele?", "y cuánto cuesta",
                "espera, antes dime cuánto tarda la recuperación", "tell me how long it lasts"])
    assert not booking.looks_like_question("me llamo Ana, y mi cel es 801 555 0123")
    assert booking.skips("no sé") and booking.skips("omitir")
    assert booking.name("me llamo Ana López") == "Ana López"
    assert booking.looks_like_a_name("me llamo ana lópez") and booking.looks_like_a_name(
        "my name is robin") and not booking.looks_like_a_name("soy alérgica al látex?")
    assert booking.name("sí, soy José") == "José"
    assert booking.name("Jared Hatch (her dad)") == "Jared Hatch"
    assert booking.contact("mi cel es 801 555 0123", "US").value == "+18015550123"


@pytest.mark.unit
@pytest.mark.parametrize("text", ["", "x" * 10_000, "R2D2", "😍😍", "<script>", "a b c d e f g",
                                  '[1, 2]', "@@@"])
def test_hostile_or_impossible_names_are_refused(text):
    with pytest.raises(booking.Invalid) as refused:
        booking.name(text)
    assert refused.value.response == "utter_invalid_name"


@pytest.mark.unit
@pytest.mark.parametrize("text, value, kind", [
    ("801-555-0123", "+18015550123", "phone"),
    ("(801) 501 9797", "+18015019797", "phone"),
    ("+44 20 7946 0958", "+442079460958", "phone"),
    ("Someone@Example.COM", "Someone@example.com", "email"),
])
def test_phone_numbers_and_emails_are_normalised(text, value, kind):
    assert booking.contact(text, CLINIC.phone_region) == booking.Contact(value, kind)


@pytest.mark.unit
@pytest.mark.parametrize("text", ["not a phone", "12345", "a@b", "[1, 2]", "📞📞", "9" * 300,
                                  "me@@example.com"])
def test_anything_else_is_not_a_contact(text):
    with pytest.raises(booking.Invalid) as refused:
        booking.contact(text, CLINIC.phone_region)
    assert refused.value.response == "utter_invalid_contact"


@pytest.mark.unit
@pytest.mark.parametrize("text, expected", [
    ("next Tuesday afternoon", "Tuesday 24 November 2026 at 2:00 PM"),
    ("Monday 10am", "Monday 23 November 2026 at 10:00 AM"),
    ("dec 3 at 2pm", "Thursday 3 December 2026 at 2:00 PM"),
    ("tuesday", "Tuesday 24 November 2026, any time"),
    ("next wednesday around 10 in the morning", "Wednesday 25 November 2026 at 10:00 AM"),
    ("monday morning at 10", "Monday 23 November 2026 at 10:00 AM"),
    ("thursday 9:30 in the morning", "Thursday 26 November 2026 at 9:30 AM"),
    ("friday at 10", "Friday 27 November 2026 at 10:00 AM"),  # a bare hour in a clinic's day
    ("tuesday at 3", "Tuesday 24 November 2026 at 3:00 PM"),
    ("Friday Dec 18 in the morning", "Friday 18 December 2026 at 9:00 AM"),  # no "18 am"
    ("this Thursday around 3pm", "Thursday 26 November 2026 at 3:00 PM"),  # said on a Saturday
    ("march 3rd", "Wednesday 3 March 2027, any time"),  # months away: next year's
    ("nov 20 2027", "Saturday 20 November 2027, any time"),  # its year said
])
def test_days_and_times_are_read_in_the_clinic_time_zone(text, expected):
    assert booking.preferred_time(text, CLINIC, NOW).text() == expected


@pytest.mark.unit
@pytest.mark.parametrize("text, response", [
    ("yesterday", "utter_invalid_preferred_time_past"),
    ("nov 20 at 10am", "utter_invalid_preferred_time_past"),  # a slip, not next year's
    ("el 2 de noviembre en la mañana", "utter_invalid_preferred_time_past"),
    ("today at 9am", "utter_invalid_preferred_time_past"),
    ("sunday", "utter_invalid_preferred_time_closed"),
    ("monday 7pm", "utter_invalid_preferred_time_closed"),
    ("banana", "utter_invalid_preferred_time"),
    ("", "utter_invalid_preferred_time"),
    ("🙂" * 500, "utter_invalid_preferred_time"),
])
def test_past_closed_and_unreadable_times_are_refused_with_the_reason(text, response):
    with pytest.raises(booking.Invalid) as refused:
        booking.preferred_time(text, OPEN_MON_FRI, NOW)
    assert refused.value.response == response


@pytest.mark.unit
@pytest.mark.parametrize("text", ["sunday", "monday 7pm"])
def test_placeholder_opening_hours_refuse_no_day(text):
    assert not CLINIC.opening_hours.confirmed
    assert booking.preferred_time(text, CLINIC, NOW).when > NOW


@pytest.mark.unit
@pytest.mark.parametrize("text", ["skip", "No", "not sure", "/deny"])
def test_the_treatment_can_be_skipped(text):
    assert booking.treatment_area(text) == "not specified"


def request(**changes) -> store.BookingRequest:
    fields = dict(kind="consultation", sender_id="visitor-1", name="Maria Lopez",
                  contact="+18015550123", contact_kind="phone", treatment_area="acne scars",
                  preferred_time="Tuesday 24 November 2026 at 2:00 PM")
    return store.BookingRequest(**{**fields, **changes})


@contextlib.contextmanager
def postgres_or_skip() -> Iterator[str]:
    """A new database of its own, its tables made as in production (by the
    migrations), dropped after."""
    name = f"bookings_{uuid.uuid4().hex[:10]}"
    server = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES}: {error.orig}")
    url = f"{POSTGRES}/{name}"
    migrated = create_engine(url, future=True)
    migrations.upgrade(migrated, migrations.BOOKINGS)
    migrated.dispose()
    try:
        yield url
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


# SQLite in-process; PostgreSQL needs a server of its own (the cluster kind).
@pytest.fixture(params=[pytest.param("sqlite", marks=pytest.mark.unit),
                        pytest.param("postgresql", marks=pytest.mark.cluster)])
def database(request, tmp_path):
    with contextlib.ExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'clinic.db'}" if request.param == "sqlite"
               else stack.enter_context(postgres_or_skip()))
        store.engine.cache_clear()
        yield store.engine(url)
        store.engine(url).dispose()
        store.engine.cache_clear()


def test_a_booking_is_stored_with_a_short_reference(database):
    saved = store.save(request(), database)
    assert saved.reference.startswith("MN-") and len(saved.reference) == 9
    assert store.newest_first(database) == [saved]


def test_saving_the_same_request_again_creates_one_booking(database):
    first = store.save(request(), database)
    again = store.save(request(), database)  # a retried request or a double click
    assert again == first
    assert len(store.newest_first(database)) == 1


def test_different_requests_are_different_bookings_newest_first(database):
    older = store.save(request(), database)
    newer = store.save(request(contact="someone@example.com", contact_kind="email"), database)
    assert newer.reference != older.reference
    assert [b.reference for b in store.newest_first(database)] == [newer.reference, older.reference]


@pytest.mark.e2e
def test_the_clinic_command_lists_and_exports_bookings(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    store.engine.cache_clear()
    saved = store.save(request(), store.engine(url))
    store.engine.cache_clear()
    env = {**ENV, "DATABASE_URL": url}
    listed = subprocess.run([str(VENV_BIN / "clinic"), "bookings", "list", "--json"], env=env,
                            capture_output=True, text=True, check=True)
    [row] = json.loads(listed.stdout)
    assert row["reference"] == saved.reference and row["name"] == "Maria Lopez"
    exported = tmp_path / "bookings.csv"
    subprocess.run([str(VENV_BIN / "clinic"), "bookings", "export", "--csv", str(exported)],
                   env=env, check=True, capture_output=True)
    assert saved.reference in exported.read_text().splitlines()[1]
    misuse = subprocess.run([str(VENV_BIN / "clinic"), "bookings"], env=env, capture_output=True)
    assert misuse.returncode == 2


class Inbox:
    """A mail server's mailbox: what a local SMTP server on loopback received."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode())
        return "250 OK"


@pytest.fixture
def mail_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.mark.e2e
def test_a_failed_email_waits_in_the_outbox_and_is_sent_on_retry(tmp_path, mail_server):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    store.engine.cache_clear()
    db = store.engine(url)
    saved = store.save(request(), db)
    inbox, port = mail_server
    down = notify.Smtp("127.0.0.1", free_port(), None, None, False, "bot@clinic.test",
                       "staff@clinic.test")
    assert notify.send_outbox(down, db) == 0
    assert [booking.reference for booking in notify.outbox(db)] == [saved.reference]
    env = {**ENV, "DATABASE_URL": url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)}
    shown = subprocess.run([str(VENV_BIN / "clinic"), "outbox"], env=env, capture_output=True,
                           text=True, check=True)
    assert saved.reference in shown.stdout
    store.engine.cache_clear()
    sent = subprocess.run([str(VENV_BIN / "clinic"), "outbox", "send"], env=env,
                          capture_output=True, text=True)
    assert sent.returncode == 0, sent.stderr
    assert "Sent 1; 0 still waiting." in sent.stdout
    [email] = inbox.messages
    assert f"New consultation request {saved.reference}" in email and "Maria Lopez" in email
    assert notify.outbox(db) == [] and store.newest_first(db)[0].notified_at is not None
    store.engine.cache_clear()


@pytest.mark.unit
def test_a_booking_is_never_confirmed_when_the_database_is_down(monkeypatch):
    import asyncio

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.forms import ActionSubmitBooking

    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    store.engine.cache_clear()
    slots = dict(consent=True, confirmed=True, name="Maria Lopez", contact="+18015550123",
                 contact_kind="phone", treatment_area="acne scars", preferred_time="Tuesday")
    tracker = Tracker("visitor", slots, {}, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSubmitBooking().run(dispatcher, tracker, {}))
    store.engine.cache_clear()
    assert [message["response"] for message in dispatcher.messages] == ["utter_booking_failed"]
    assert {"event": "slot", "name": "contact", "value": None, "timestamp": None} in events


@pytest.mark.unit
@pytest.mark.parametrize("text", ["yes you can keep my details", "confirm", "that's correct", "sure",
                                  "ye", "yea ok", "sure, go ahead and store them"])
def test_a_plain_yes_agrees(text):
    assert booking.agrees(text)


@pytest.mark.unit
@pytest.mark.parametrize("text", ["ok, how long is the recovery", "ok carry on", "no",
                                  "yes but change my phone", "the email is wrong"])
def test_a_question_a_resume_or_a_correction_is_no_yes(text):
    assert not booking.agrees(text)


@pytest.mark.unit
@pytest.mark.parametrize("text, expected", [("ok, it's Natalie Brooks", "Natalie Brooks"),
                                            ("my name is Wes Carter", "Wes Carter"),
                                            ("Oksana Petrenko", "Oksana Petrenko"),
                                            ("ok igual quiero la consulta, me llamo Daniela Reyes",
                                             "Daniela Reyes"),
                                            ("de nuevo en español: me llamo Sandra Lopez",
                                             "Sandra Lopez"),
                                            ("its Brianna!", "Brianna"), ("Im Sam.", "Sam"),
                                            ("ok whatever. Lindsey Park", "Lindsey Park")])
def test_a_name_is_read_after_its_lead_in(text, expected):
    assert booking.name(text) == expected


@pytest.mark.unit
def test_a_name_said_after_something_else_is_a_name():
    assert booking.looks_like_a_name("ok igual quiero la consulta, me llamo Daniela Reyes")
    assert booking.looks_like_a_name("ok whatever. Lindsey Park")
    assert not booking.looks_like_a_name("fine. Book Now")


@pytest.mark.unit
@pytest.mark.parametrize("text, expected", [
    ("wait where's the clinic exactly, I'm in Ogden", True),  # a question word with its verb joined
    ("ok and how's the recovery", True),
    ("espera, antes dime si duele", True), ("i want to know if it hurts", True),  # asked indirectly
    ("si, pueden guardar mis datos", False),  # "si" alone is a yes, not an "if"
    ("el jueves temprano, como a las 9", False), ("ok, como se cuida la piel", True)])  # "about"
def test_a_question_is_told_by_its_words(text, expected):
    assert booking.looks_like_question(text) is expected


@pytest.mark.unit
@pytest.mark.parametrize("text, expected", [
    ("ahorita no tengo brote, eso importa?", True), ("mmm guardar mis datos? no, mejor no", False),
    ("no. why do you need it?", True), ("no thanks", False)])
def test_a_message_ends_asking_when_its_last_sentence_asks(text, expected):
    assert booking.ends_asking(text) is expected


@pytest.mark.unit
@pytest.mark.parametrize("text, value", [
    ("my email is ana@example.com", "ana@example.com"),
    ("sure, it's ana@example.com thanks!", "ana@example.com"),
    ("801 555 0190 es el de mi nieta", "+18015550190")])
def test_a_contact_is_read_in_a_sentence(text, value):
    assert booking.contact(text, CLINIC.phone_region).value == value


@pytest.mark.unit
def test_two_numbers_are_no_contact():
    """Which one? The step is asked again rather than one of them kept."""
    with pytest.raises(booking.Invalid):
        booking.contact("801-555-0190 or 801-555-0191", CLINIC.phone_region)


@pytest.mark.unit
@pytest.mark.parametrize("text", ["skip", "ok, skip", "not sure", "not sure yet, skip",
                                  "no sé todavía, omitir", "sáltate eso, prefiero decirlo en la consulta",
                                  "i'd rather tell you at the consultation", "lo digo en la cita"])
def test_a_skip_after_a_lead_in_skips_the_area(text):
    assert booking.skips(text) and booking.treatment_area(text) == "not specified"


@pytest.mark.unit
@pytest.mark.parametrize("text, is_name", [
    ("Sadie Call", True), ("Ty Nguyen", True), ("Maria Lopez Garcia", True),
    ("Mary-Jane O'Neil", True), ("Thank You", False), ("Call Me Back", False),
    ("Book Now", False), ("Where Are You", False), ("sadie call", False), ("Sadie", True),
    ("Paola.", True), ("Skip", False), ("Gracias", False), ("Sí", False), ("Why?", False),
    ("ok its Nia Johnson", True), ("ok Thank You", False),  # after a lead-in
    ("Jared Hatch (her dad)", True),  # an aside after the name
    ("ok its Brianna", True), ("I am Sam", True), ("ok its fine", False),  # one name after "it's"
    ("Dale Peterson", True), ("Will Anderson", True), ("Will Do", False), ("Dale", False),
    ("Dale Gracias", False),  # "dale", "will": words, and first names before a surname
    ("...", False), ("(her mom)", False),  # nothing left once the aside and dots are gone
])
def test_capitalised_words_that_are_no_request_or_thanks_look_like_a_name(text, is_name):
    assert booking.looks_like_a_name(text) is is_name


@pytest.mark.unit
@pytest.mark.parametrize("text, yes", [
    ("yes, that's fine. Can we continue in English?", True), ("sí, claro. sigamos", True),
    ("ok, let's carry on", False), ("yes but how long is the recovery?", False)])
def test_a_plain_yes_before_a_request_is_a_yes(text, yes):
    assert booking.says_yes_first(text) == yes


@pytest.mark.unit
@pytest.mark.parametrize("text, names", [
    ("ok good. my face please", True), ("sí, la cara y el cuello", True),
    ("yes, acne scars", True), ("ok", False), ("yes you can store it", False),
    ("sure thing", False)])
def test_a_yes_that_goes_on_to_name_an_area_answers_the_area_step(text, names):
    assert booking.names_an_area(text) is names


@pytest.mark.unit
@pytest.mark.parametrize("text, expected", [
    ("why do you need my phone number?", True), ("para qué quieren guardar mis datos?", True),
    ("why?", True), ("¿pa qué?", True), ("what will you do with my email", True),
    ("why does it hurt?", False), ("yes you can keep my details", False),
    ("para que sirve el microneedling?", False)])
def test_a_question_about_what_the_details_are_for_is_told_apart(text, expected):
    assert booking.asks_why_details(text) is expected
