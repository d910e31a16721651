"""The bound of the store's ids, in a module of its own so that a command line can be
parsed without loading the store.

Ids are INTEGER columns: 32-bit on PostgreSQL, so a larger id names no row there (and
cannot even be compared with one); the same bound on SQLite keeps the two alike.
"""

MAX_ID = 2**31 - 1
