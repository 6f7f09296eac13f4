"""The demo: a ready-to-try commune with a demo clerk, dossiers and an embedded server.

``python -m desktop.demo`` (what ``scripts/demo`` runs):

1. creates ``./demo-profile`` on first run for a Lào Cai commune (Xã Khao Mang, 04465), with
   the clerk "demo" / password "demo" (printed on the console) and about 30 dossiers of the
   four procedures spread over the last weeks, so the dashboard is not empty;
2. starts the provincial sync server embedded on SQLite (``server.embedded.start_server``)
   and enrols the demo device to it;
3. runs the app on that profile.

``python -m desktop.demo --console`` does 1 and 2, then prepares provincial IT's console over
the same server and runs the app on the console's profile instead:

- two more commune PCs under ``./demo-devices`` (clerk "demo" / "demo"): a second PC of Xã
  Khao Mang and one of Xã Mù Cang Chải (04456);
- on the server, what the console shows: a field conflict (the demo PC and the second Khao Mang
  PC edit the same birth dossier's fields offline, then sync) and a duplicate birth (the same
  child registered in both communes); every PC synced;
- ``./demo-console-profile``: provincial IT's profile ("tinh" / "tinh", ``role="province"``)
  enrolled as an operator with a code from the embedded server.

A second run reuses what exists: profiles are opened, a PC or the console is enrolled again
only when the server does not know it, and the conflict and the duplicate are made only when
the server holds none of that kind (open or resolved).

``demo_dossiers`` is also used by tests and benchmarks to fill stores with valid data.
"""
