"""``python -m ml4llm ...``: the same command line as the ``ml4llm`` console script."""

import sys

from ml4llm.cli import main

sys.exit(main())
