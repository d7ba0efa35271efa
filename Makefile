# The two commands that matter: `make book` and `make test`. Both set up the project's
# own virtual environment (.venv) on a fresh machine and reuse it afterwards.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JOBS   ?= 2
# (No MPLBACKEND here: notebook kernels must keep matplotlib's inline backend, or figures
# vanish from the outputs nbval compares. Headless tests fall back to Agg by themselves.)
# One BLAS thread per process: the tests already run one process per core, and
# multithreaded BLAS on small matrices is many times slower on a loaded 2-core machine.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help book book-single book-student pdf test test-lib test-notebooks test-book test-browser test-pdf test-student test-latest lint lab serve bench clean

help:
	@echo "make book    build the book into _build/html"
	@echo "make test    run every test: library, checker, notebooks (nbval), strict book build, browser"
	@echo "make book-single  the whole book as one printable HTML page"
	@echo "make pdf     the whole book as one PDF (_build/pdf/), offline, through headless Chromium"
	@echo "make book-student  the book without solution pages or links to them (_build/student/)"
	@echo "make lab     open the notebooks in JupyterLab (for instructors)"
	@echo "make serve   serve the built book on http://localhost:8000"
	@echo "make bench   print the benchmark tables"

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==26.3
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --builder html
	@echo
	@echo "The book is built: open $(CURDIR)/_build/html/index.html"

# The whole book as one printable HTML page (print it to PDF from the browser).
book-single: $(STAMP)
	$(VENV)/bin/jupyter-book build . --builder singlehtml
	@echo "One-page book: $(CURDIR)/_build/singlehtml/index.html"

# The whole book as one PDF: the one-page book printed by headless Chromium (offline).
PDF := _build/pdf/causal-inference-in-python.pdf
pdf: book-single
	$(PY) _ext/book_pdf.py _build/singlehtml $(PDF)

# For an instructor who grades: the same book without the solution pages or any link to
# them (_ext/book_extras.py drops them when BOOK_EDITION=student). `make book` keeps them.
STUDENT := _build/student/_build/html
book-student: $(STAMP)
	BOOK_EDITION=student $(VENV)/bin/jupyter-book build . --builder html --path-output _build/student
	@echo "The student edition is built: open $(CURDIR)/$(STUDENT)/index.html"

test: test-lib test-notebooks test-book test-browser test-pdf test-student

test-lib: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -p no:cacheprovider --doctest-modules tests lessons_lib --ignore=tests/browser

test-notebooks: $(STAMP)
	$(PY) -m pytest -n $(JOBS) --dist loadfile -p no:cacheprovider \
		--nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		chapters solutions

test-book: $(STAMP)
	rm -rf _build/html _build/.doctrees
	$(VENV)/bin/jupyter-book build . --builder html --all -n -W --keep-going

# The built site in headless Chromium, offline, with an axe-core accessibility audit of
# every page (skips with a message where Chromium is absent).
test-browser: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -p no:cacheprovider tests/browser/test_site.py tests/browser/test_buttons.py

test-pdf: pdf
	$(PY) -m pytest -p no:cacheprovider tests/browser/test_pdf.py

# The student edition, built strictly and tested like the site, plus: no solution anywhere.
test-student: $(STAMP)
	rm -rf _build/student
	BOOK_EDITION=student $(VENV)/bin/jupyter-book build . --builder html --path-output _build/student --all -n -W --keep-going
	LESSONS_SITE=$(STUDENT) LESSONS_EDITION=student $(PY) -m pytest -n $(JOBS) -p no:cacheprovider tests/browser/test_site.py

# No drift: the newest release of every dependency instead of the pins, in its own venv.
LATEST := .venv-latest
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	sed -e 's/==.*//' -e '/^#/d' requirements.txt | grep -v -x -i -E 'jupyter-book|sphinx|pip' > $(LATEST)/requirements-latest.txt
	$(LATEST)/bin/python -m pip install --quiet --upgrade -r $(LATEST)/requirements-latest.txt "jupyter-book<2"
	$(LATEST)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(LATEST)/bin/python -m pip list --format=freeze > $(LATEST)/installed.txt
	$(LATEST)/bin/python -m pytest -n $(JOBS) -p no:cacheprovider tests --ignore=tests/browser
	$(LATEST)/bin/python -m pytest -n $(JOBS) --dist loadfile -p no:cacheprovider \
		--nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg chapters solutions

lint: $(STAMP)
	$(VENV)/bin/ruff check lessons_lib tests benchmarks exercises/checks

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=$(CURDIR)

serve:
	@test -d _build/html || (echo "Build the book first: make book" && exit 2)
	$(PYTHON) -m http.server 8000 --directory _build/html

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf _build .pytest_cache
