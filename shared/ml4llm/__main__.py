"""``python -m ml4llm ...`` and the ``ml4llm`` console script: the command line of :mod:`ml4llm.cli`.

:func:`entry` imports the command line itself, so that Ctrl-C during that import (a second or two)
gives the same one line as Ctrl-C later, not a traceback.
"""

import sys

INTERRUPTED = 1  # the exit status after Ctrl-C (also ml4llm.cli.INTERRUPTED)


def entry() -> int:
    """Run the command line with this process's arguments; return the exit status."""
    try:
        from ml4llm.cli import main
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C) before the command started", file=sys.stderr)
        return INTERRUPTED
    return main()


if __name__ == "__main__":
    sys.exit(entry())
