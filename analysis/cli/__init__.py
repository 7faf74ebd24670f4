"""The command line, ``python -m analysis``: a thin parser (``main``) and one module per
group of commands, each importing what only its commands need, when they run.

The top of the house: it may import any wing, and no wing imports it.
"""
