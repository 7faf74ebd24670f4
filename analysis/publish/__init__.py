"""The reports: every notebook executed on a fresh kernel, exported as a page a reader
without a kernel can use, the index, the slide deck, and the assets shipped beside them.

Imports any wing below it (``show`` for the figures); never ``bench`` or ``cli``.
"""
