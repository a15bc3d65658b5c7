"""``python -m dfl_graph`` is the ``dfl`` command."""

from dfl_graph.cli import main

main()
