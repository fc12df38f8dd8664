# One image for the Rasa server and the action server (deploy/). The model is
# not trained here: train it first, then build.
#   make train        # writes models/assistant.tar.gz
#   docker build -t clinic-assistant .
# The command below starts a Rasa server in cluster mode, with this
# project's changes to Rasa (rasa_patches/: a plain `rasa run` refuses to
# start); the action server is the same image with `rasa run actions --port
# 5055 --actions actions`, and the one-shot step that makes or updates the
# tables before they start (deploy/) the same image with `python -m migrations`.
FROM python:3.10.18-slim-bookworm

# PYTHONPATH: the code in /app runs, not the copy pip installs, because the
# code finds knowledge/ and build/ next to itself.
ENV PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=3
WORKDIR /app

# The pinned packages first: this layer is rebuilt only when the lock changes.
# The servers' packages only: the test tools are in requirements-dev.lock.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
# setuptools leaves build/ and *.egg-info behind; build/ then gets the spaCy
# pipeline that config.yml loads at run time.
RUN test -f models/assistant.tar.gz \
      || { echo "models/assistant.tar.gz is missing: run make train before docker build" >&2; exit 1; } \
 && pip install --no-deps . \
 && rm -rf build ./*.egg-info \
 && python -m clinic.spacy_model

# Root owns the code; the servers run as an unprivileged user, who may write
# only var/ (the staff tools' default databases) and its home. A numeric
# USER, so that Kubernetes' runAsNonRoot can check it.
RUN useradd --create-home --uid 10001 clinic && mkdir -p var && chown clinic var
USER 10001

EXPOSE 5005 5055
CMD ["python", "-m", "rasa_patches", "run", "--model", "models/assistant.tar.gz", \
     "--port", "5005", "--endpoints", "endpoints.cluster.yml", "--credentials", "credentials.yml"]
