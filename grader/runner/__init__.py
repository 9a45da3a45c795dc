"""The only grader code that runs beside student code, inside the sandbox.

It imports nothing from the rest of the grader (the sandbox sees only this folder), uses only
the standard library, numpy and nbclient, and sends its results to the host over one pipe
(see protocol.py). The host treats everything it sends as untrusted data.
"""
