"""Many runs with a question behind them: which builds are affected (verdicts), each
build's measured behaviour (profiles), the preopen lists to try (scenarios), sweeps as
DataFrames, the model against real runs, and what a host can do (practices).

Imports ``runs``, ``artifacts`` and ``model``; never ``reach``, ``findings`` or anything shown.
"""
