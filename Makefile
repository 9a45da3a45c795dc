# `make demo` grades the bundled demo; `make test` runs the test suite. Both set up on first use.
VENV ?= .venv
STAMP := $(VENV)/.installed

.PHONY: demo test setup clean
demo: $(STAMP)
	$(VENV)/bin/grader grade mnist_cnn submissions/demo/mnist_cnn.zip --out reports/

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n auto

setup: $(STAMP)
$(STAMP): pyproject.toml scripts/setup.sh
	VENV=$(VENV) scripts/setup.sh

clean:
	rm -rf reports/*/ .grader-cache
