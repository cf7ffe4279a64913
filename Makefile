# The two commands of the README. Both install what they need first (packaging/install.sh).
.PHONY: run test lint bench install

install:
	bash packaging/install.sh

run: install
	bash packaging/run-app.sh

test:
	bash packaging/install.sh --dev
	bash packaging/run-tests.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	for b in bench/bench_*.py; do .venv/bin/python $$b || exit 1; done
