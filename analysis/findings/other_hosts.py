"""Page 8's claims, other hosts: what the WASIp1 hosts' conformance matrix (``reach.host_matrix``)
shows, each sentence from its cells, and what the confinement check found on the disk."""
from __future__ import annotations

from collections.abc import Sequence

from .checks import Claim, Domain, Findings, every


def other_hosts_findings(matrix) -> Findings:
    """What the conformance matrix (``reach.host_matrix``) shows, each sentence from its cells."""
    from ..reach.host_checks import CHECKS, REFERENCE
    from ..reach.host_matrix import LISTS

    hosts = matrix.hosts
    lists = list(next(iter(matrix.differ.values()), {}))
    about = Domain.about(f"the {len(lists)} lists of this page ({', '.join(lists)}) through {len(hosts)} WASIp1 "
                         f"hosts ({', '.join(hosts)}), each against {REFERENCE}")
    case = "the report's case"
    reads_case = [(h, not {"reads", "failed"} & set(matrix.differ[h].get(case, ("failed",)))) for h in hosts]
    clean = [h for h in hosts if all(c.verdict == "same" for c in matrix.cells if c.host == h)
             and not any("failed" in checks for checks in matrix.differ[h].values())]
    bugs = [c for c in matrix.cells if c.verdict == "host bug"]
    judged = [c for c in matrix.cells if c.verdict != "same"]
    moved = [(h, n) for h in hosts for n, checks in matrix.differ[h].items()
             if {"names", "order"} & set(checks) and "failed" not in checks]
    still = sum("reads" not in matrix.differ[h][n] for h, n in moved)
    keyed = [h for h in hosts if any("keyed by guest path" in x for x in matrix.limits.get(h, ()))]
    objects = [h for h in hosts if any("integer-like keys" in x for x in matrix.limits.get(h, ()))]

    def integer_first(h: str) -> bool:
        """Measured: the order differs, and the host served 2 through a lower fd than 10."""
        example = matrix.cell(h, "order").example
        seen = example.seen if example else ""
        return "order" in matrix.differ[h].get("integer-like", ()) and -1 < seen.find("'2'") < seen.find("'10'")
    return Findings("8 · other hosts", (
        every(f"On every WASIp1 host tried, each of the report's {len(LISTS[case])} preopens reads its own MARKER, "
              f"as on {REFERENCE}: none shows the adapter's bug.", reads_case,
              "opener runs of the report's case, one per host").with_domain(about),
        Claim(f"{len(clean)} of the {len(hosts)} hosts ran every list and agree with {REFERENCE} on every check"
              f"{': ' + ', '.join(clean) if clean else ''}.", True,
              f"{len(hosts) * len(CHECKS)} (host, check) cells").with_domain(about),
        Claim(f"Where a host tells other names or another fd order, wasi-libc's lookup by name read what "
              f"{REFERENCE} reads in {still} of the {len(moved)} (host, list) pairs.", bool(moved),
              f"{len(moved)} (host, list) pairs with different names or order").with_domain(about),
        every(f"The hosts that take preopens as an object keyed by name ({', '.join(keyed) or 'none'}) cannot be "
              "given a name twice (each run says so under its limits): given /a /b /a, each tells other names than "
              "wasmtime does.",
              ((h, "names" in matrix.differ[h].get("duplicate", ())) for h in keyed),
              "runs of the duplicate list, one per such host").with_domain(about),
        every(f"The hosts that take a JavaScript object ({', '.join(objects) or 'none'}) serve integer-like names "
              f"first, in numeric order: given {' '.join(LISTS['integer-like'])}, directory 2 is read through a lower "
              "fd than 10 (the order check).", ((h, integer_first(h)) for h in objects),
              "runs of the integer-like list, one per such host").with_domain(about),
        *confinement_claims(matrix),
        Claim(f"{len(bugs)} differences are host bugs: "
              f"{'; '.join(f'{c.host} · {c.check}' for c in bugs) or 'none'}.", True,
              f"{len(judged)} differing cells judged from the hosts' source").with_domain(about),
        every("Every difference the runs show is explained: a host bug, an API limit or allowed by the spec.",
              ((f"{c.host} · {c.check}", c.verdict not in ("unexplained", "failed")) for c in judged),
              "differing cells").with_domain(about),
    ))


def confinement_claims(matrix) -> tuple[Claim, ...]:
    """What the confinement check (``reach.host_checks.confinement``) found, from the disk."""
    from ..reach.host_checks import BOX, ESCAPE_NAMES, ESCAPES, OUTSIDE, REFERENCE

    found = {h: matrix.confinement[h] for h in (REFERENCE, *matrix.hosts) if h in matrix.confinement}
    hosts = [h for h in matrix.hosts if h in found]
    if not hosts:
        return ()
    about = Domain.about(f"the confine guest with one writable preopen ({BOX}) on {len(hosts)} WASIp1 hosts "
                         f"({', '.join(hosts)}) and on {REFERENCE}: from fd 3 it creates `../escaped-dotdot`, an "
                         "absolute path under the run's folder, and `link/escaped-symlink` after making `link -> ..`; "
                         "the files are looked for on the disk")
    out = [h for h in hosts if found[h].escaped and not found[h].problem]
    kept = [h for h in hosts if not found[h].escaped and not found[h].problem]
    untried = [h for h in hosts if found[h].problem]
    listed = "; ".join(f"{h} ({_listed([ESCAPE_NAMES[e] for e in found[h].escaped])})" for h in out)
    said = (f"A guest given one writable preopen created files outside it on {len(out)} of the {len(hosts)} hosts"
            f"{': ' + listed if out else ''}. On {_listed(kept) or 'no other'}, as on {REFERENCE}, none of its "
            "three escapes reached the disk" + (f" ({_listed(untried)} could not be tried)" if untried else "") + ".")
    attempts = [(h, a) for h in hosts for a in found[h].attempts if a.attempt in ESCAPES and not found[h].problem]
    refused = [(h, a) for h, a in attempts if a.errno not in (0, None)]
    claims = [Claim(said, not found[REFERENCE].escaped if REFERENCE in found else False,
                    f"{len(attempts)} escapes on {len(hosts) - len(untried)} hosts, each looked for on the disk"
                    ).with_domain(about)]
    if out:
        claims.append(every("Each of those hosts is judged to have a bug: reaching past a preopen is against WASI's "
                            "capability model, and each one's source (or its runs) says how it lets the guest out.",
                            ((h, matrix.cell(h, "confinement").verdict == "host bug") for h in out), "hosts"
                            ).with_domain(about))
    claims.append(every("No host made a file after telling the guest it had refused to.",
                        ((f"{h} · {a.attempt} ({a.errno})", a.landed != OUTSIDE) for h, a in refused),
                        "refused escapes").with_domain(about))
    in_memory = [h for h in kept if found[h].attempt("inside").errno == 0
                 and found[h].attempt("inside").landed == "not on disk"]
    told_done = [h for h in in_memory if any(a.errno == 0 for a in found[h].attempts if a.attempt in ESCAPES)]
    if told_done:
        claims.append(Claim(f"A success is no proof of an escape: {_listed(told_done)} told the guest that escapes "
                            "succeeded, yet nothing reached the disk (these hosts keep the guest's files in memory, "
                            "even the one it made inside its preopen).", True,
                            f"{len(in_memory)} hosts whose files stay in memory").with_domain(about))
    return tuple(claims)


def _listed(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} and {items[-1]}"
