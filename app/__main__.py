from __future__ import annotations

import sys

from app.core.cli import main

sys.exit(main())
