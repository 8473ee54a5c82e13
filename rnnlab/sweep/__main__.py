"""``python -m rnnlab.sweep``: one sweep worker process (see ``rnnlab.sweep.worker``)."""

from rnnlab.sweep.worker import main

raise SystemExit(main())
