"""The adapter builds and the guests: the catalogue, filling the cache, rebuilding guests."""
from __future__ import annotations

import argparse
import json

from ..artifacts import adapters, guests
from ..model.describe import span, text_table


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
    listing = commands.add_parser("adapters", help="the catalogue of adapter builds")
    listing.set_defaults(func=_adapters)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument("--scan", action="store_true",
                         help="maintenance: fetch every published jco release and compare with the lock file")
    listing.add_argument("--write", action="store_true", help="with --scan: rewrite the lock file")

    fetch = commands.add_parser("fetch", help="fetch adapter builds into the cache (default: all catalogued, "
                                              "command and reactor)")
    fetch.set_defaults(func=_fetch)
    fetch.add_argument("ids", nargs="*", metavar="ID")

    build = commands.add_parser("build-guests", help="rebuild the compiled guests from source")
    build.set_defaults(func=_build_guests)
    build.add_argument("names", nargs="*", metavar="NAME", default=["opener", "keeper", "conformance", "rust-open"])


def _adapters(args: argparse.Namespace) -> int:
    if args.scan:
        return _scan_releases(write=args.write)
    builds = adapters.catalogue()
    if args.json:
        rows = [{"id": b.id, "releases": list(b.releases), "sha256": b.sha256,
                 "source": b.source, "cached": b.is_cached()} for b in builds]
        print(json.dumps(rows, indent=2))
        return 0
    rows = [("id", "sha256", "cached", "releases", "source")]
    rows += [(b.id, b.short_sha, "yes" if b.is_cached() else "no", span(b.releases), b.source) for b in builds]
    print("\n".join(text_table(rows)))
    return 0


def _scan_releases(write: bool) -> int:
    entries = adapters.scan()
    current = {(b.sha256, b.releases) for b in adapters.catalogue()}
    changed = [e for e in entries if (e["sha256"], tuple(e["releases"])) not in current]
    print(f"{len(entries)} distinct builds in {sum(len(e['releases']) for e in entries)} releases; "
          f"{len(changed)} differ from the lock file")
    for entry in changed:
        print(f"  {entry['id']}: {entry['sha256'][:16]} {span(entry['releases'])}")
    if write and changed:
        adapters.write_lock(entries)
        print(f"wrote {adapters.LOCK_FILE}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    builds = [adapters.resolve(i) for i in args.ids] if args.ids else \
        [variant for build in adapters.catalogue() for variant in (build, build.reactor())]
    for build in builds:
        path = adapters.fetch(build)
        print(f"{build.id:<12} {build.short_sha} {path}")
    if not args.ids:  # the whole set-up: the JavaScript WASIp1 hosts too (npm, pinned)
        from ..runs.wasip1_hosts import wasip1_home

        print(f"{'wasip1 hosts':<12} {wasip1_home()}")
    return 0


def _build_guests(args: argparse.Namespace) -> int:
    for name in args.names:
        print(f"built {guests.build(name)}")
    return 0
