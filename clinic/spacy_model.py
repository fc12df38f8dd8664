"""Build the local spaCy pipeline the NLU uses, without any download.

A blank English pipeline plus spaCy's lookup lemmatizer, whose table comes
from the installed `spacy-lookups-data` package, saved where `config.yml`
points SpacyNLP (`build/en_clinic_lookup`).

    python -m clinic.spacy_model
"""
from pathlib import Path

import spacy

TARGET = Path(__file__).resolve().parent.parent / "build" / "en_clinic_lookup"


def build(target: Path = TARGET) -> spacy.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta.update(name="clinic_lookup", version="1.0.0",
                    description="Blank English pipeline with the lookup lemmatizer")
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    return nlp


if __name__ == "__main__":
    nlp = build()
    lemmas = [token.lemma_ for token in nlp("sessions hurt healing scars")]
    print(f"spaCy pipeline saved to {TARGET.relative_to(Path.cwd())}; lemmas: {lemmas}")
