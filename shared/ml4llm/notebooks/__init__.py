"""Helper generation, header stamping and headless execution of the course notebooks.

The solution notebook is the single source; the helper notebook is generated from it. One module
per concern:

- :mod:`~ml4llm.notebooks.markers`: blanking a solution cell (``# SOLUTION``, ``# BEGIN SOLUTION``
  ... ``# END SOLUTION``) into the helper's ``...`` stubs;
- :mod:`~ml4llm.notebooks.stamp`: the generated parts of both notebooks (header, Colab setup cell,
  normalisation) and the helper built from a solution;
- :mod:`~ml4llm.notebooks.sync`: reading and writing notebook files, regenerating the repository's
  helpers and checking that they are in sync, protecting a learner's edits;
- :mod:`~ml4llm.notebooks.run`: executing a notebook headless (Ctrl-C stops at the current cell);
- :mod:`~ml4llm.notebooks.outfolder`: the output folders of ``ml4llm run`` and ``check --out``,
  which never overwrite a notebook the tools did not write;
- :mod:`~ml4llm.notebooks.outputs`: what an executed notebook printed, and the rules the tests
  apply to it (strict mode for solutions, feedback for untouched helpers).

Everything is importable from ``ml4llm.notebooks`` directly, e.g.
``from ml4llm.notebooks import execute, read_notebook``.
"""

from __future__ import annotations

from ml4llm.notebooks.errors import HelperEditedError, MarkerError, NotebookError
from ml4llm.notebooks.markers import STUB_COMMENT, blank_source
from ml4llm.notebooks.outputs import helper_problems, strict_problems
from ml4llm.notebooks.run import ExecResult, execute
from ml4llm.notebooks.stamp import (
    COLAB_BADGE,
    HEADER_ROLE,
    KEPT_CELL_METADATA,
    KERNEL_NAME,
    SETUP_ROLE,
    blank_share,
    build_pair,
    colab_badge,
    colab_url,
    github_repo,
    header_source,
    make_helper,
    mark_helper_setup,
    repository_url,
    setup_source,
    source_hash,
    stamp,
)
from ml4llm.notebooks.sync import (
    check,
    dumps,
    find_repo_root,
    generate,
    helper_was_edited,
    read_notebook,
)

__all__ = [
    "COLAB_BADGE",
    "HEADER_ROLE",
    "KEPT_CELL_METADATA",
    "KERNEL_NAME",
    "SETUP_ROLE",
    "STUB_COMMENT",
    "ExecResult",
    "HelperEditedError",
    "MarkerError",
    "NotebookError",
    "blank_share",
    "blank_source",
    "build_pair",
    "check",
    "colab_badge",
    "colab_url",
    "dumps",
    "execute",
    "find_repo_root",
    "generate",
    "github_repo",
    "header_source",
    "helper_problems",
    "helper_was_edited",
    "make_helper",
    "mark_helper_setup",
    "read_notebook",
    "repository_url",
    "setup_source",
    "source_hash",
    "stamp",
    "strict_problems",
]
