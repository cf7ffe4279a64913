"""``python -m affectscope`` is the same as the ``affectscope`` command."""

from affectscope.app.cli.main import main

raise SystemExit(main())
