"""Files other people built: the core modules a component carries, an embedded adapter run
on its own (am I affected?), the adapters inside published packages, which toolchains
shipped the bug, and a component repaired with a fixed build.

Imports the wings below it (``experiments`` for the verdicts); never ``findings`` or anything shown.
"""
