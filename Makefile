# `make demo` grades the bundled demo; `make test` runs the test suite. Both set up on first use.
VENV ?= .venv
STAMP := $(VENV)/.installed
# Every assignment with a demo Moodle zip in submissions/demo/ is graded by `make demo`.
DEMOS := $(basename $(notdir $(wildcard submissions/demo/*.zip)))

.PHONY: demo test setup clean
demo: $(STAMP)
	@for a in $(DEMOS); do \
		$(VENV)/bin/grader grade $$a submissions/demo/$$a.zip --out reports/ || exit 1; \
	done

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n auto

setup: $(STAMP)
$(STAMP): pyproject.toml scripts/setup.sh
	VENV=$(VENV) scripts/setup.sh

clean:
	rm -rf reports/*/ .grader-cache
