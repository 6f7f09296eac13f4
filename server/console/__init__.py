"""The provincial IT console's actions on the server (``POST /admin``, :mod:`protocol.admin`).

Each action is a function over a storage transaction that returns exactly the answer shape
:mod:`protocol.admin` declares: :mod:`.conflicts` (the inbox and one conflict side by side),
:mod:`.duplicates` (a suspected duplicate and its evidence), :mod:`.devices` (devices and the
communes' sync health), :mod:`.statistics` (the dossier count cube), :mod:`.history` (a
record's versions). :mod:`.dispatch` opens an operator's request, runs the action and seals the
answer; the command line calls the same functions.
"""
