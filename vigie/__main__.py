"""`python -m vigie` runs the CLI."""

from vigie.cli import main

main()
