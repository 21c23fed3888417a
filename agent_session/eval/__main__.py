"""`python -m agent_session.eval FILE... [--url URL] ...`: see `cli.py` and the README."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
