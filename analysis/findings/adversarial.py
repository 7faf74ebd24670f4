"""Preopen lists as an adversary builds them, for the hunter: names made from the other names
and from the lab's own layout, and lists at and around every threshold a claim names.

A friendly user types names; an adversary reads how the lab works and aims at it. Each
preopen's directory holds ``MARKER``, the guests open ``<name>/MARKER``, the adapter's table
holds 128 descriptors, its scratch area some 59 KB, the host 255 bytes a component and 4,096 a
path. So the names here are another preopen's path with ``/MARKER`` after it, its parent,
child or sibling, with ``.`` or ``..`` in it, the empty name at any position; and the counts
and lengths sit a few steps either side of 124, 125, 126, NAME_MAX, PATH_MAX and each build's
measured scratch capacity. Every choice is drawn, so Hypothesis shrinks a counterexample name
by name, as it does the friendly lists.
"""
from __future__ import annotations

import posixpath
from functools import lru_cache

from hypothesis import strategies as st

from ..model.markers import MARKER, marker_target
from ..model.wasi import ADAPTER_MAX_PREOPENS, NAME_MAX, PATH_MAX

DERIVATIONS = ("marker", "inside-marker", "parent", "child", "sibling", "prefix-sibling", "dot", "dotdot",
               "empty", "trailing", "double-slash", "relative", "same")
"""How a name is made from another: ``/a`` gives ``/a/MARKER``, ``/a/MARKER/x``, ``/``, ``/a/b``,
``/c``, ``/ab``, ``/a/.``, ``/a/..``, ``''``, ``/a/``, ``//a``, ``a`` and ``/a`` again."""
PLAIN_DERIVATIONS = ("marker", "inside-marker", "parent", "child", "sibling", "prefix-sibling", "same")
"""Those that keep a plain name plain (absolute, real components, one ``/`` between them)."""
BASES = ("/a", "/b", "/ab", "/data", "/", "/a/b", "/é中", "/" + "l" * 300)
"""Plain names the derived ones start from: short, nested, sharing a prefix, the root, non-ASCII, long."""
COUNTS = tuple(range(ADAPTER_MAX_PREOPENS - 3, ADAPTER_MAX_PREOPENS + 3))
"""Preopen counts around the adapter's table: 122 to 127 (124 usable, 125 full, 126 a trap)."""
STEPS = 3
"""How far either side of a length threshold the lengths go, in bytes."""


def derive(name: str, how: str) -> str:
    """A name an adversary makes from ``name`` (see ``DERIVATIONS``)."""
    base = name.rstrip("/") or "/"
    joined = (lambda tail: f"{base}/{tail}" if base != "/" else f"/{tail}")
    parent = posixpath.dirname(base) if base.startswith("/") else "."
    last = posixpath.basename(base) or "r"
    return {
        "marker": marker_target(name),
        "inside-marker": f"{marker_target(name)}/x",
        "parent": parent or "/",
        "child": joined("b"),
        "sibling": posixpath.join(parent or "/", last + "-s") if base != "/" else "/s",
        "prefix-sibling": base + "x" if base != "/" else "/x",
        "dot": joined("."),
        "dotdot": joined(".."),
        "empty": "",
        "trailing": base + "/" if base != "/" else "//",
        "double-slash": "/" + base if base.startswith("/") else "//" + base,
        "relative": base.lstrip("/") or ".",
        "same": name,
    }[how]


@st.composite
def layout_lists(draw, min_count: int = 1, max_count: int = 130, plain: bool = False):
    """A few plain names, then up to four more, each made from one already in the list and put at
    a drawn position: ``/a /a/MARKER``, ``/ /MARKER /zz``, ``/a '' /b``."""
    names = draw(st.lists(st.sampled_from(BASES), min_size=1, max_size=4))
    for _ in range(draw(st.integers(1, 4))):
        source = draw(st.sampled_from(names))
        how = draw(st.sampled_from(PLAIN_DERIVATIONS if plain else DERIVATIONS))
        names.insert(draw(st.integers(0, len(names))), derive(source, how))
    names = names[:max_count]
    while len(names) < min_count:
        names.append(f"/p{len(names)}")
    return tuple(names)


@st.composite
def threshold_lists(draw, min_count: int = 1, max_count: int = 130):
    """A list at a threshold: a count around the table's 124/125/126, a component around NAME_MAX,
    a path whose test file is around PATH_MAX, or names whose bytes are around a build's
    measured scratch capacity. Every name is absolute; the PATH_MAX one may end in ``/``."""
    kind = draw(st.sampled_from(("count", "name-max", "path-max", "scratch")))
    if kind == "count":
        counts = [c for c in COUNTS if min_count <= c <= max_count]
        if counts:
            count = draw(st.sampled_from(counts))
            names = [f"/d{i}" for i in range(count)]
            if draw(st.booleans()):  # and one name of the lab's layout among them
                names[draw(st.integers(0, count - 1))] = derive(names[0], draw(st.sampled_from(PLAIN_DERIVATIONS)))
            return tuple(names)
        kind = "name-max"
    step = draw(st.integers(-STEPS, STEPS))
    if kind == "name-max":
        names = ["/" + "n" * (NAME_MAX + step)]
    elif kind == "path-max":  # <name>/MARKER, its NUL included, within a few bytes of PATH_MAX
        size = PATH_MAX - 1 - len("/" + MARKER) + step
        parts, left = [], size
        while left > 0:
            part = min(NAME_MAX, left - 1) or 1
            parts.append("p" * part)
            left -= part + 1
        names = ["/" + "/".join(parts)[: size - 1]]
    else:
        capacity = draw(st.sampled_from(_capacities()))
        count = draw(st.integers(1, 4))
        each = max(1, (capacity + step * 8) // count - 12)  # about 12 bytes of entry a preopen besides its name
        names = ["/" + letter * (each - 1) for letter in "pqrs"[:count]]
    names += [f"/q{i}" for i in range(max(0, min_count - len(names)))]
    return tuple(names[:max_count])


@lru_cache(maxsize=1)
def _capacities() -> tuple[int, ...]:
    """Every catalogued build's measured scratch capacity (``profiles``), each once."""
    from ..artifacts.adapters import catalogue
    from ..experiments.profiles import profile_of

    found = {profile_of(b.id).scratch_capacity for b in catalogue()}
    return tuple(sorted(c for c in found if c))
