"""The storage transaction's queries, one module per group of tables.

:class:`server.storage.Tx` combines them; :mod:`server.queries.base` holds what they share
(the connection, the write buffers and small query helpers).
"""
