"""What a notebook shows: one colour, glyph and hatch per outcome, figures of results,
diagrams of the mechanism, HTML views, and the widgets (explorer, stepper, scanner).

Imports any wing below it; never ``publish``, ``bench`` or ``cli``.
"""
