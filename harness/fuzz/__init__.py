"""Endpoint fuzzing: Schemathesis generates each operation's requests once; every principal sends them."""
