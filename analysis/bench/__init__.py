"""Test and benchmark support, not used by any notebook: the measuring tools, what runs and
commands cost against their baselines, and JupyterLab driven live in chromium (for
``tests/test_lab_browser.py`` and ``bench --browser``).

Imports any wing below it; never ``publish`` or ``cli``, and nothing below imports it.
"""
