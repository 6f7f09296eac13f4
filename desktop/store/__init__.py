"""Local encrypted SQLite store: schema, migrations, writer thread, search, outbox and audit."""
