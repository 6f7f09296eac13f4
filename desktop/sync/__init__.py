"""Sync engine: envelope crypto, wire messages, HTTP client, scheduler and conflicts (no Tk)."""
