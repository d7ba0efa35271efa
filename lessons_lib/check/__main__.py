"""``python -m lessons_lib.check PATH... [--json] [--csv FILE]``: see ``lessons_lib.check.cli``."""

import os
import sys

from lessons_lib.check.cli import main

try:
    status = main()
    sys.stdout.flush()
except BrokenPipeError:  # the output was piped into `head` or similar: stop quietly
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    status = 1
sys.exit(status)
