"""Preopen lists to try: naming schemes, orders, and random lists for the model check.

A scheme turns a count into that many guest paths (``equal`` lengths, ``varied``
lengths, a ``shared-prefix`` family, ``nested`` directories, ``realistic`` names);
an order rearranges them. The explorer and the sweeps build every list they run
from these, so a list in a notebook can be rebuilt from its scheme, count and order.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..model.errors import LabError

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SHARED = ["/d", "/dd", "/data", "/dat", "/data/cache", "/db", "/d/x", "/ddd", "/data2", "/da"]
_NESTED = ["/", "/tmp", "/tmp/x", "/home", "/home/user", "/tmp/x/y", "/var", "/var/log", "/home/user/src", "/srv"]
_REALISTIC = ["/data", "/cache", "/tmp", "/home/user", "/etc", "/var/log", "/srv/www", "/opt/app",
              "/usr/share", "/mnt/disk"]


def _equal(count: int) -> list[str]:
    width = 1
    while 26**width < count:
        width += 1
    names = []
    for i in range(count):
        letters = ""
        for _ in range(width):
            i, r = divmod(i, 26)
            letters = _LETTERS[r] + letters
        names.append("/" + letters)
    return names


def _varied(count: int) -> list[str]:
    return ["/" + _LETTERS[i % 26] * (1 + i % 8) for i in range(count)]


def _from_list(base: list[str]) -> Callable[[int], list[str]]:
    def make(count: int) -> list[str]:
        return base[:count] + [f"/extra{i}" for i in range(count - len(base))]

    return make


SCHEMES: dict[str, Callable[[int], list[str]]] = {
    "equal": _equal,
    "varied": _varied,
    "shared-prefix": _from_list(_SHARED),
    "nested": _from_list(_NESTED),
    "realistic": _from_list(_REALISTIC),
}
"""Naming schemes: each turns a count into that many guest paths. ``custom`` takes a list."""

SCHEME_MEANINGS: dict[str, str] = {
    "equal": "every name the same length: one letter, or two from 27 names on",
    "varied": "lengths cycling from one letter to eight",
    "shared-prefix": "names that begin alike, some the start of others",
    "nested": "directories inside other preopened directories, from the root down",
    "realistic": "names a service might mount",
}
"""What each scheme is for, in words; the names themselves come from ``SCHEMES``."""

SCHEME_CHOICES = (*SCHEMES, "custom")
ORDERS = ("as given", "reversed", "shuffled", "by hand")


def check_scheme(scheme: str) -> str:
    if scheme not in SCHEME_CHOICES:
        raise LabError(f"unknown naming scheme {scheme!r}: choose one of {', '.join(SCHEME_CHOICES)}")
    return scheme


def scheme_paths(scheme: str, count: int, custom: Sequence[str] = ()) -> list[str]:
    if check_scheme(scheme) == "custom":
        if not custom:
            raise LabError("the custom scheme needs names: give at least one path")
        return list(custom)[:count]
    if count < 1:
        raise LabError(f"a preopen count must be at least 1, not {count}")
    return SCHEMES[scheme](count)


def parse_order(text: str, count: int) -> list[int]:
    """A hand-typed order such as ``"2 0 1"``: every position from 0 to count-1, once."""
    try:
        order = [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise LabError(f"order {text!r} is not a list of numbers: type positions such as 2 0 1") from None
    if sorted(order) != list(range(count)):
        raise LabError(f"order {text!r} must name each of the positions 0..{count - 1} exactly once")
    return order


def ordering(count: int, how: str, seed: int = 0, by_hand: str = "") -> list[int]:
    """The permutation of positions for an order choice of the explorer."""
    if how == "as given":
        return list(range(count))
    if how == "reversed":
        return list(range(count))[::-1]
    if how == "shuffled":
        order = list(range(count))
        random.Random(seed).shuffle(order)
        return order
    if how == "by hand":
        return parse_order(by_hand, count)
    raise LabError(f"unknown order {how!r}: choose one of {', '.join(ORDERS)}")


@dataclass(frozen=True)
class Scenario:
    label: str
    scheme: str
    paths: tuple[str, ...]
    order: tuple[int, ...]
    """Which entry of the scheme's list stands at each position."""


_FAMILIES = ("equal", "varied", "shared-prefix", "nested", "duplicates", "non-ascii", "long", "odd")


def random_preopens(rng: random.Random, max_count: int = 12) -> list[str]:
    """A preopen list drawn from the families that matter to the bug.

    Equal and varied lengths, shared prefixes, nesting, duplicates, non-ASCII, names of
    hundreds of bytes and odd-but-legal names, mixed within one list; and one list in ten
    of a few names of kilobytes whose total lands near an adapter's scratch capacity.
    """
    if rng.random() < 0.1:  # a few names of kilobytes, totalling near an adapter's scratch capacity (~59 KB)
        parts, total = rng.randint(1, 6), rng.choice((29_500, 54_900, 59_000)) + rng.randint(-120, 120)
        return ["/" + letter * (total // parts - 1) for letter in "pqrstu"[:parts]]
    count = rng.randint(1, max_count)
    equal_len = rng.randint(1, 6)
    paths: list[str] = []
    for _ in range(count):
        family = rng.choice(_FAMILIES)
        if family == "equal":
            path = "/" + "".join(rng.choice("abcde") for _ in range(equal_len))
        elif family == "varied":
            path = "/" + "".join(rng.choice("abcxyz") for _ in range(rng.randint(1, 8)))
        elif family == "shared-prefix":
            path = rng.choice(["/d", "/dd", "/data", "/dat", "/d/x", "/data/cache"])
        elif family == "nested":
            path = rng.choice(["/", "/tmp", "/tmp/x", "/tmp/x/y", "/home", "/home/user"])
        elif family == "duplicates" and paths:
            path = rng.choice(paths)
        elif family == "non-ascii":
            path = "/" + "".join(rng.choice("aé中üß") for _ in range(rng.randint(1, 5)))
        elif family == "long":
            path = "/" + rng.choice("lmn") * rng.randint(100, 400)
        else:
            path = rng.choice([".", "", "rel", "..", "/a/..", "./x", "/a//b", "x/"])
        paths.append(path)
    return paths
