"""vigie's benchmarks: `python bench/run.py [--quick] [--json OUT]` (see bench/README.md)."""
