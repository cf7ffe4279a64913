"""Entry script for the standalone build: the same as the ``affectscope`` command."""

from affectscope.app.cli.main import main

raise SystemExit(main())
