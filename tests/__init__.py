"""The test suite of vigie (a package, so `from tests.newsroom import ...` works)."""
