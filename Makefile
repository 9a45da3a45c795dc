# `make demo` grades the bundled demo; `make test` runs the test suite. Both set up on first use.
VENV ?= .venv
STAMP := $(VENV)/.installed
# The lean environment the sandboxed notebooks' kernel runs in (scripts/setup.sh builds both).
KVENV ?= .venv-kernel
KSTAMP := $(KVENV)/.installed
# Every assignment with a demo Moodle zip in submissions/demo/ is graded by `make demo`.
DEMOS := $(basename $(notdir $(wildcard submissions/demo/*.zip)))

# The demo's students were built from the instructor's reference solution (one mistake each),
# so the demo leaves the reference's code out of the copy search, as it does the template's;
# only the planted copy (Zoë's MNIST notebook, from Nerea's) is then flagged.
# A real course leaves this out. See submissions/demo/README.md.
DEMO_SIMILARITY = --set 'similarity.exclude=[../assignments/'$$a'/source/'$$a'.ipynb]'

.PHONY: demo test setup clean
# Each with the grading worksheet Moodle gives for it (submissions/demo/<a>.worksheet.csv) when
# there is one; then the end-of-term grades (reports/final_grades.csv) from all of them.
demo: $(STAMP) $(KSTAMP)
	@for a in $(DEMOS); do \
		ws=submissions/demo/$$a.worksheet.csv; \
		$(VENV)/bin/grader grade $$a submissions/demo/$$a.zip --out reports/ \
			$$( [ -f $$ws ] && echo --worksheet $$ws ) $(DEMO_SIMILARITY) || exit 1; \
	done
	$(VENV)/bin/grader final --out reports/

test: $(STAMP) $(KSTAMP)
	$(VENV)/bin/python -m pytest -n auto --dist loadgroup

setup: $(STAMP) $(KSTAMP)
$(STAMP) $(KSTAMP) &: pyproject.toml scripts/setup.sh scripts/kernel_requirements.py
	VENV=$(VENV) KVENV=$(KVENV) scripts/setup.sh

clean:
	rm -rf reports/*/ reports/final_* reports/final.json reports/index.html .grader-cache
