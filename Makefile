# The commands of the README and CI. Each target rebuilds only what changed:
# the environment when the lock file changes, the model when the data does.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3

MODEL := models/assistant.tar.gz
SPACY := build/en_clinic_lookup/meta.json build/es_clinic_lookup/meta.json
# the custom components too: a change to how they train changes the model
TRAINING_DATA := config.yml domain.yml $(wildcard data/*.yml) $(wildcard components/*.py)
WIDGET := web/dist/widget.js
# rasa-webchat, the community's chat widget, which tests/test_rasa_webchat.py
# runs against the socket.io channel: its npm package, checked against the
# registry's sha512 of that version.
RASA_WEBCHAT_VERSION := 1.0.1
RASA_WEBCHAT_SHA512 := 2ddd73549bd301a4ebb3a039a7cb7bd1a80d36b2984725e5bea5d94600680ef28a5176c0d238492840a2e5b74f1a5691ea3b26a96b55ca51d2f98a88aa8d31f3
RASA_WEBCHAT := build/rasa-webchat-$(RASA_WEBCHAT_VERSION)/index.js

.PHONY: run run-cluster test test-fast lint shell train eval bench soak clean clean-model

run: $(MODEL) $(WIDGET) ## start the assistant on http://localhost:5005
	@scripts/run

run-cluster: $(MODEL) $(WIDGET) ## 2 replicas behind nginx on PostgreSQL and Redis (README: Cluster mode)
	$(PY) -m cluster.launch $(if $(REPLICAS),--replicas $(REPLICAS))

test: $(MODEL) $(WIDGET) $(RASA_WEBCHAT) ## the whole test suite
	$(PY) -m pytest

# No model and no widget: the unit tests need neither (tests/support/kinds.py).
test-fast: $(VENV)/.installed $(SPACY) ## the unit tests alone, in under a minute
	$(PY) -m pytest -m unit

# lint-imports checks the layers once pyproject.toml declares them.
lint: $(VENV)/.installed ## ruff, and the import layers of [tool.importlinter]
	$(VENV)/bin/ruff check .
	@if grep -q '^\[tool.importlinter\]' pyproject.toml; then \
	  echo "$(VENV)/bin/lint-imports"; $(VENV)/bin/lint-imports; fi

shell: $(MODEL)      ## chat in the terminal
	@scripts/run shell

train: $(MODEL)      ## train a model if the data changed, through the quality gate

eval: $(MODEL)       ## held-out accuracy, then the blind sets' messages and conversations
	$(PY) -m clinic.evaluate
	$(PY) -m clinic.blind

bench: $(SPACY)      ## speed and accuracy against Rasa's default config (about an hour)
	$(PY) -m bench.run

soak: $(MODEL)       ## 10 minutes of steady traffic (MINUTES=1: a short run), not in `make test`
	$(PY) -m bench.soak $(if $(MINUTES),--minutes $(MINUTES))

# The servers' packages and the developers' tools (the image has only the former).
$(VENV)/.installed: requirements.lock requirements-dev.lock pyproject.toml
	@python=$$(scripts/find-python) && echo "Using $$python" && \
	  { [ -x $(PY) ] || "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(SPACY) &: $(VENV)/.installed clinic/spacy_model.py
	$(PY) -m clinic.spacy_model

# The one way a model goes into service, here as for the staff: `clinic train`
# checks the data, trains, and serves the new model only if it answers every
# urgent message urgently, escalates no normal reaction and is at most a point
# less accurate than the model in service (clinic/training.py). A refused
# model leaves the old one, so make tries again next time; `make clean-model`
# starts over with no model to compare with.
$(MODEL): $(SPACY) $(TRAINING_DATA)
	$(VENV)/bin/clinic --project . train
	@touch $@

web/node_modules/.installed: web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to build the chat widget (Debian: apt-get install npm)" >&2; exit 1; }
	cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

$(WIDGET): web/node_modules/.installed web/package.json $(wildcard web/src/*)
	cd web && npm run --silent build

$(RASA_WEBCHAT):
	@command -v npm >/dev/null || { echo "npm is needed to fetch rasa-webchat (Debian: apt-get install npm)" >&2; exit 1; }
	rm -rf $(@D) && mkdir -p $(@D)
	cd $(@D) && npm pack --silent --loglevel=error rasa-webchat@$(RASA_WEBCHAT_VERSION) >/dev/null
	cd $(@D) && echo "$(RASA_WEBCHAT_SHA512)  rasa-webchat-$(RASA_WEBCHAT_VERSION).tgz" | sha512sum --check --quiet
	tar -xzf $(@D)/rasa-webchat-$(RASA_WEBCHAT_VERSION).tgz -C $(@D) --strip-components=2 package/lib/index.js
	rm $(@D)/rasa-webchat-$(RASA_WEBCHAT_VERSION).tgz

clean-model:         ## forget the trained model (the next run or test retrains)
	rm -rf models .rasa

clean:               ## remove the environment, models and build output
	rm -rf $(VENV) models build .rasa logs results web/node_modules web/dist
