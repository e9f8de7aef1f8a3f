from __future__ import annotations

from flockguard.cli.main import main

raise SystemExit(main())
