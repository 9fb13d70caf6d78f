"""``python -m neuronet``: the command line (see ``neuronet.cli``)."""

import sys

from neuronet.cli import main

sys.exit(main())
