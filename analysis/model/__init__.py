"""The ground: the one ``LabError``, WASI's facts, what a run found and the words for it,
what each preopen's directory holds, the adapter's scratch area and the model of the
preopen chain, all in pure Python.

Runs nothing and reads no file. Never imports another wing: every wing stands on this one.
"""
