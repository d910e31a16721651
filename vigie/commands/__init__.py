"""The commands of the CLI, grouped by concern: read.py reads the store (updates, show,
sources, export), crawl.py crawls (run, crawl, probe, check), serve.py serves and maintains
it (serve, reindex). vigie/cli.py puts them in one typer app."""
