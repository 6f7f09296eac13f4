"""The provincial IT console's non-visual side: the admin client, statistics and exports.

It talks to the provincial server's ``/admin`` endpoint with sealed envelopes (the operator's
keys live in the encrypted profile); the screens in ``desktop.ui.console`` only call it through
the task runner.
"""
