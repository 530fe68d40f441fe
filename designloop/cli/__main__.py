"""`python -m designloop.cli`: the same as the `designloop` command."""

from designloop.cli import main

main()
