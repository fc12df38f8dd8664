"""Build the local spaCy pipelines the NLU uses, without any download.

English: a blank pipeline plus spaCy's lookup lemmatizer, whose table comes
from the installed `spacy-lookups-data` package, saved where `config.yml`
points SpacyNLP (`build/en_clinic_lookup`).

Spanish, for the urgent-symptom gate (components/red_flags.py): the same, from
spacy-lookups-data's Spanish table, saved in `build/es_clinic_lookup`. Visitors
often type Spanish without accents ("inflamacion", "hinchazon"), so the gate
reads Spanish text through `fold` and the table is keyed by folded words too.

    python -m clinic.spacy_model
"""
from pathlib import Path

import spacy
import srsly
from spacy.lookups import Lookups

from core.language import fold

BUILD = Path(__file__).resolve().parent.parent / "build"
TARGET = BUILD / "en_clinic_lookup"
SPANISH = BUILD / "es_clinic_lookup"
# Entries of the English table that read a common word as a rarer one: "number"
# is the comparative of "numb" there, so "number?" read as a question on pain;
# "mas" is the plural of "ma", so "cuentame mas" was not "cuéntame más".
ENGLISH_LEMMAS = {"number": "number", "mas": "mas"}


def build(target: Path = TARGET) -> spacy.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup").update(ENGLISH_LEMMAS)
    nlp.meta.update(name="clinic_lookup", version="1.0.0",
                    description="Blank English pipeline with the lookup lemmatizer")
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    return nlp


def folded_lookup(table: dict) -> dict:
    """The lemma table for folded text: every word also under its folded form,
    unless that form is a word of its own ("esta" is not "está")."""
    folded = {fold(word): fold(lemma) for word, lemma in table.items()}
    folded.update({word: fold(lemma) for word, lemma in table.items() if fold(word) == word})
    return folded


def build_spanish(target: Path = SPANISH) -> spacy.Language:
    import spacy_lookups_data  # the tables ship as data files of this package
    table = srsly.read_gzip_json(
        Path(spacy_lookups_data.__file__).parent / "data" / "es_lemma_lookup.json.gz")
    lookups = Lookups()
    lookups.add_table("lemma_lookup", folded_lookup(table))
    nlp = spacy.blank("es")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.get_pipe("lemmatizer").initialize(lookups=lookups)
    nlp.meta.update(name="clinic_lookup", version="1.0.0",
                    description="Blank Spanish pipeline with the lookup lemmatizer, on folded text")
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    return nlp


if __name__ == "__main__":
    nlp = build()
    lemmas = [token.lemma_ for token in nlp("sessions hurt healing scars")]
    print(f"spaCy pipeline saved to {TARGET.relative_to(Path.cwd())}; lemmas: {lemmas}")
    nlp = build_spanish()
    lemmas = [token.lemma_ for token in nlp(fold("Tengo los labios hinchados y ampollas"))]
    print(f"spaCy pipeline saved to {SPANISH.relative_to(Path.cwd())}; lemmas: {lemmas}")
