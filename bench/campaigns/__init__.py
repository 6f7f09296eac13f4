"""Crash and fault campaigns (issue 5): SIGKILL the client, SIGKILL the server, faulty links.

Each campaign is a module with a ``run(...)`` function returning a summary dictionary and a
``main()`` command line (``python -m bench.campaigns.client_crash --trials 1000``). The CI
smoke test (``tests/test_bench_campaigns_smoke.py``) runs each in a small, quick form.
"""
