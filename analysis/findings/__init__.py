"""Every general statement the pages make, computed from this build's runs, each with its
evidence or its counterexample.

Imports any wing below it; never ``show``, ``publish``, ``bench`` or ``cli``: a claim is
checked the same whoever shows it.
"""
