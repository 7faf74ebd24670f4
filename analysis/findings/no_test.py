"""Page 9's claims, why no test caught it: what the smallest catching lists and the exported
suite's runs on every host show, each sentence from those runs."""
from __future__ import annotations

from collections.abc import Sequence

from .checks import Claim, Domain, Findings, every


def no_test_findings(caught, measured, affected: Sequence[str], fixed: Sequence[str], matrix) -> Findings:
    """``caught``: ``suite.catching_lists``; ``measured``: ``suite_export.measured``; ``matrix``: the
    WASIp1 hosts' matrix (``host_matrix.measured``)."""
    from ..reach.suite import CASES, CHECK_OF, POOL
    from ..runs.wasip1_hosts import P1_HOSTS

    pool = Domain.about(f"every list of 1 to 3 distinct names from {', '.join(POOL)} in every order "
                        f"({caught.tried} lists), run with the conformance guest natively and through "
                        f"{len(affected) + len(fixed)} builds ({len(affected)} affected)")
    family = {c.name: c.family for c in CASES}
    cli = measured.results["wasmtime-cli"]
    suite_words = Domain.about(f"the exported suite's {len(CASES)} tests, each the WASIp1 module and a component "
                               f"per build ({len(affected) + len(fixed)} builds), run by the Wasmtime CLI")
    p1 = [h for h in measured.results if h in P1_HOSTS and h != "wasmtime-cli"]
    hosts_words = Domain.about(f"the suite's {len(CASES)} WASIp1 tests on {len(p1)} WASIp1 hosts "
                               f"({', '.join(p1)}), each failure's first line matched to the matrix check it tests")
    judged = [(f"{h} · {t}: {said}", matrix.cell(h, CHECK_OF[said.split(' ', 1)[0]]).verdict != "same")
              for h in p1 for g, t, said in measured.failed(h) if said.split(" ", 1)[0] in CHECK_OF]
    refused = [(h, t) for h in p1 for g, t, said in measured.failed(h) if said.split(" ", 1)[0] not in CHECK_OF]
    lists = "; ".join(" ".join(n or '""' for n in names) for names in caught.lists)
    return Findings("9 · why no test caught it", (
        Claim(f"No list of one or two names catches the bug: of the {caught.tried} lists tried, the catching ones "
              f"(failing through every affected build, passing natively and through every build not affected) all "
              f"have three names: {caught.by_size.get(3, 0)} of the {caught.tried_by_size.get(3, 0)} orderings of "
              f"three ({lists}).",
              caught.smallest == 3 and not caught.by_size.get(1) and not caught.by_size.get(2),
              f"checked on {caught.runs:,} runs").with_domain(pool),
        every("Each three-name list that does not catch it has a middle and a last name that agree on their common "
              "length (one is a prefix of the other), so that the last name, written over the middle one, leaves "
              "it as it was.", ((" ".join(m), m[1][:min(len(m[1]), len(m[2]))] == m[2][:min(len(m[1]), len(m[2]))])
                               for m in caught.missed if len(m) == 3), "three-name lists that do not catch it"
              ).with_domain(pool),
        every("Every WASIp1 test of the suite passes natively on the Wasmtime CLI.",
              ((t, passed) for g, t, passed, _ in cli if g == "wasip1"), "WASIp1 tests").with_domain(suite_words),
        every("Every affected build's component fails the report's case, and every build not affected passes it.",
              ((g, passed != (g in affected)) for g, t, passed, _ in cli if t == "report-case" and g != "wasip1"),
              "builds").with_domain(suite_words),
        every("A build not affected fails only tests of two families: an empty name, and 125 or more preopens "
              "(with fds 0 to 2, 128 or more descriptors).",
              ((f"{g}/{t}", family[t] in ("empty name", "many")) for g, t, passed, _ in cli
               if g in fixed and not passed), "failed tests of builds not affected").with_domain(suite_words),
        every("Where a WASIp1 host fails a test of the suite, the hosts' matrix (page 8) found that host different "
              "from wasmtime on the same check.", judged, "failed (host, test) pairs").with_domain(hosts_words),
        Claim(f"Failures where a host's own API refused the list: {len(refused)} "
              f"({'; '.join(f'{h} · {t}' for h, t in refused) or 'none'}).", True,
              f"{sum(len(measured.failed(h)) for h in p1)} failed (host, test) pairs").with_domain(hosts_words),
    ))
