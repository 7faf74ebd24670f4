"""The lists a claim speaks about: a generator of preopen lists as users type them, and
the conditions that carve a claim's domain out of it, each in words and as code.

The generator (``preopen_lists``) is a Hypothesis strategy, so that the hunter can shrink
a counterexample it draws. It covers 1 to 130 preopens (past the 124 the adapter's table
takes) and names from the empty one to 60,000 bytes: ``/``, nesting (``/a`` and ``/a/b``),
shared prefixes (``/a`` and ``/ab``), duplicates, a trailing ``/``, ``//`` inside, ``.``,
``./a``, ``..``, relative names, non-ASCII. Names are built from a few components rather
than picked from earlier ones, so that a counterexample shrinks name by name; names of
kilobytes come in short lists only.
A condition is a ``Condition``; ``within`` joins some into a ``Domain``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from ..experiments.profiles import profile_of
from ..model import scratch
from ..model.chain import GUESTS as MODEL_GUESTS, libc_route
from ..model.markers import marker_target
from ..model.results import NATIVE
from ..model.wasi import ADAPTER_MAX_PREOPENS, FIRST_FD, PATH_MAX, encode
from .adversarial import layout_lists, threshold_lists
from .checks import Domain, Paths

MOST_PREOPENS = 130
"""The most preopens the generator draws: past the adapter's descriptor table."""
USABLE_PREOPENS = ADAPTER_MAX_PREOPENS - 1
"""The most preopens an adapter build can open a file through (at 125 none can, beyond it traps)."""
LONGEST_NAME = 60_000
"""The longest name the generator draws, in bytes: past every build's scratch area (about 59 KB)."""
WORDS = ("a", "b", "ab", "data", "x", "é中", ".", "..")
"""The components names are made of: few, so that lists repeat and nest names (``/a``,
``/a/b``, ``/a/``), share prefixes (``/a``, ``/ab``) and carry ``.``, ``..`` and non-ASCII."""
STARTS = ("/", "", "./", ".")
"""How a name begins: absolute, relative, ``./`` and ``.`` (Hypothesis shrinks towards the first)."""


LONG_NAMES_UP_TO = 8
"""Lists of up to this many preopens may hold names of kilobytes; longer lists hold names of
at most ``MANY_NAMES_LONGEST`` bytes (a hundred names of 60 KB each is 6 MB of arguments)."""
MANY_NAMES_LONGEST = 400


def preopen_name(longest: int = MANY_NAMES_LONGEST, plain: bool = False) -> st.SearchStrategy:
    """One name: a start, up to three components joined by ``/`` or ``//``, maybe a trailing ``/``;
    or the empty name. One component in eight is up to ``longest`` bytes long.
    ``plain`` names are ``/`` or absolute, with real components, one ``/`` between them."""
    words = st.sampled_from(WORDS[:-2] if plain else WORDS)
    long_word = st.builds(lambda letter, size: letter * size, st.sampled_from("lmn"), st.integers(1, longest - 1))
    component = st.one_of(*[words] * 7, long_word)
    joins = st.just("/") if plain else st.sampled_from(("/", "//"))
    ends = st.just("") if plain else st.sampled_from(("", "/"))
    starts = st.just("/") if plain else st.sampled_from((*STARTS, "empty"))

    def build(start: str, parts: list[str], join: str, end: str) -> str:
        if start == "empty":
            return ""
        if start == "." and parts:
            start = "./"
        if start in ("", "./") and not parts:
            parts = ["a"]
        return start + join.join(parts) + end

    return st.builds(build, starts, st.lists(component, max_size=3), joins, ends)


def _distinct(paths: list[str]) -> Paths:
    """Each name drawn again gets its position appended: ``/a /a`` becomes ``/a /a1``."""
    seen: set[str] = set()
    out = []
    for index, name in enumerate(paths):
        if name in seen:
            name = f"{name.rstrip('/')}{index}" if name.rstrip("/") else f"/{index}"
        seen.add(name)
        out.append(name)
    return tuple(out)


def preopen_lists(min_count: int = 1, max_count: int = MOST_PREOPENS, distinct: bool = False,
                  plain: bool = False) -> st.SearchStrategy:
    """A preopen list of ``min_count`` to ``max_count`` names (``plain``: see ``preopen_name``):
    a few names, any number, or nearly ``max_count``, as a user types them; or as an adversary
    builds them (``adversarial.layout_lists``, ``adversarial.threshold_lists``). ``distinct``:
    see ``_distinct``."""
    few = min(max_count, max(min_count, LONG_NAMES_UP_TO))
    shapes = [st.lists(preopen_name(LONGEST_NAME, plain), min_size=min_count, max_size=few),
              st.lists(preopen_name(MANY_NAMES_LONGEST, plain), min_size=min_count, max_size=max_count),
              st.lists(preopen_name(MANY_NAMES_LONGEST, plain), min_size=max(min_count, max_count - 40),
                       max_size=max_count),
              layout_lists(min_count, max_count, plain), layout_lists(min_count, max_count, plain),
              threshold_lists(min_count, max_count)]
    return st.one_of(shapes).map(_distinct if distinct else tuple)


@st.composite
def equal_length_lists(draw, max_count: int = USABLE_PREOPENS) -> Paths:
    """Distinct names of one length in bytes: nesting, dots and ``//`` included; one list in
    four at the table's threshold (122 to ``max_count`` names, ``/000``, ``/001``, ...)."""
    if max_count >= USABLE_PREOPENS - 2 and draw(st.integers(0, 3)) == 0:
        return tuple(f"/{i:03d}" for i in range(draw(st.integers(USABLE_PREOPENS - 2, max_count))))
    size = draw(st.integers(1, 12))
    name = st.text("ab/.", min_size=size - 1, max_size=size - 1).map(lambda tail: "/" + tail)
    return tuple(draw(st.lists(name, min_size=1, max_size=max_count, unique=True)))


@st.composite
def with_an_empty_name(draw) -> Paths:
    """A list with the empty name somewhere before its last preopen."""
    paths = list(draw(preopen_lists(2, USABLE_PREOPENS)))
    paths[draw(st.integers(0, len(paths) - 2))] = ""
    return tuple(paths)


def one_name(low: int, high: int) -> st.SearchStrategy:
    """One preopen whose name is ``low`` to ``high`` bytes long."""
    return st.builds(lambda size, letter: ("/" + letter * (size - 1),), st.integers(low, high), st.sampled_from("lmn"))


# -- conditions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    words: str
    test: Callable[[Paths, str, str], bool]
    """(paths, build, guest): whether one run meets it."""


ANY_NAMES = (f"any names (the hunter draws them empty, nested, duplicated, relative, dotted, with a trailing `/` "
             f"or `//`, non-ASCII, up to {LONGEST_NAME:,} bytes)")


def within(*conditions: Condition, lists=None) -> Domain:
    """The runs that meet every condition; drawn by ``lists`` (default: ``preopen_lists``)."""
    words = ", ".join(c.words for c in conditions)
    return Domain(words, lambda paths, build, guest: all(c.test(tuple(paths), build, guest) for c in conditions),
                  preopen_lists() if lists is None else lists)


def count(low: int, high: int) -> Condition:
    return Condition(f"{low} to {high} preopens" if low != high else f"{low} preopen{'s' * (low > 1)}",
                     lambda paths, build, guest: low <= len(paths) <= high)


ANY = Condition(ANY_NAMES, lambda paths, build, guest: True)
DISTINCT = Condition("no name given twice", lambda paths, build, guest: len(set(paths)) == len(paths))
NO_EMPTY_NAME = Condition("no empty name", lambda paths, build, guest: "" not in paths)
EQUAL_LENGTH = Condition("names of one length in bytes", lambda paths, build, guest: len({len(encode(p)) for p in paths}) == 1)
PLAIN = Condition("every name written plainly: absolute, no `.` or `..` component, no `//`, no trailing `/`",
                  lambda paths, build, guest: all(_plain(p) for p in paths))
OPENABLE = Condition(f"each name short enough that `<name>/MARKER` stays under the host's PATH_MAX ({PATH_MAX:,} "
                     "bytes)", lambda paths, build, guest: all(len(encode(marker_target(p))) < PATH_MAX - 1 for p in paths))
OWN_ROUTE = Condition("each `<name>/MARKER` routed by wasi-libc's rule, on the names as configured, to its own "
                      "preopen (no other name is a longer match for it, as `/a/MARKER` is for `/a`'s file)",
                      lambda paths, build, guest: _own_routes(paths))
SLOTS = Condition(f"the adapter's descriptor table ({ADAPTER_MAX_PREOPENS + FIRST_FD} slots, stdio included) holding "
                  f"the preopens and every file the guest holds open at once: at most {USABLE_PREOPENS} preopens for "
                  f"a guest that closes each file, {ADAPTER_MAX_PREOPENS // 2} for the keeper",
                  lambda paths, build, guest: build == NATIVE or len(paths) <= _most_preopens(guest))
AN_EMPTY_NAME = Condition("an empty name before the last preopen", lambda paths, build, guest: "" in paths[:-1])


def longer_than(size: int) -> Condition:
    return Condition(f"names longer than {size:,} bytes",
                     lambda paths, build, guest: all(len(encode(p)) > size for p in paths))


FITS = Condition("names that fit the build's scratch area as the guest uses it (the model's byte count for that "
                 "guest, one of those it counts: probe, walker, opener, keeper, against the capacity measured for "
                 "that build)",
                 lambda paths, build, guest: _fits(paths, build, guest))
"""Runs whose names fit: the bytes depend on the guest too (the opener's arguments take room,
the walker asks for names past an empty one), so the run's own guest is counted."""
OVERFLOWS = Condition("names that do not fit the build's scratch area as the guest uses it (the model's byte count "
                      "for that guest against the capacity measured for that build)",
                      lambda paths, build, guest: not _fits(paths, build, guest))


def _fits(paths: Paths, build: str, guest: str) -> bool:
    if build == NATIVE:
        return True
    if guest not in MODEL_GUESTS:  # rust-open: Rust std's use of the area is not counted, so no list is known to fit
        return False
    profile = profile_of(build)
    return scratch.need(paths, profile.behavior, guest) <= profile.scratch_capacity


def _most_preopens(guest: str) -> int:
    """The most preopens with a slot left for every file ``guest`` holds: one at a time, or one per preopen."""
    return (ADAPTER_MAX_PREOPENS) // 2 if guest == "keeper" else USABLE_PREOPENS


def _own_routes(paths: Paths) -> bool:
    table = [(FIRST_FD + i, encode(p)) for i, p in enumerate(paths)]
    for index, path in enumerate(paths):
        route = libc_route(table, encode(marker_target(path)))
        if route is None or route.fd != FIRST_FD + index:
            return False
    return True


def _plain(path: str) -> bool:
    """``/`` or ``/a/b``: absolute, and every component a real name."""
    return path == "/" or (path.startswith("/") and all(part not in ("", ".", "..") for part in path[1:].split("/")))
