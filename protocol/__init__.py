"""What a commune device and the provincial server must agree on, and nothing else.

``keys`` (key pairs and ids), ``envelope`` (the sealed, signed frame), ``sealing`` (requests,
responses, sessions), ``wire`` (messages and their checks), ``enrolment`` (one-time codes and
proofs), ``limits`` (sizes) and ``errors`` (exceptions and API error codes). The desktop's sync
engine and the server both import this package; it imports neither of them.
"""
