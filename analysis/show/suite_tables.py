"""Page 9's tables: the smallest catching lists, and the exported suite on every host."""
from __future__ import annotations

import pandas as pd


def catching_frame(caught) -> pd.DataFrame:
    """Per size of list: how many were tried, how many catch the bug, and those that do."""
    return pd.DataFrame([{"names": k, "lists tried": caught.tried_by_size[k], "catching": caught.by_size[k],
                          "the catching lists": "; ".join(" ".join(c) for c in caught.lists if len(c) == k) or "-"}
                         for k in sorted(caught.tried_by_size)])


def hosts_frame(measured) -> pd.DataFrame:
    """Per host: the tests it ran, how many passed, the time the whole run took."""
    return pd.DataFrame([{"host": h, "tests run": len(rows), "passed": sum(p for _, _, p, _ in rows),
                          "failed": sum(not p for _, _, p, _ in rows), "seconds": measured.seconds[h]}
                         for h, rows in measured.results.items()])


def builds_frame(measured, affected: set[str], host: str = "wasmtime-cli") -> pd.DataFrame:
    """Per group (the WASIp1 module, each build's components) on ``host``: which tests failed."""
    groups: dict[str, list[str]] = {}
    for group, test, passed, _ in measured.results[host]:
        groups.setdefault(group, [])
        if not passed:
            groups[group].append(test)
    return pd.DataFrame([{"tests": group, "build": "native" if group == "wasip1" else
                          ("affected" if group in affected else "not affected"),
                          "failed": len(failed), "which": ", ".join(failed) or "-"} for group, failed in groups.items()])


def failures_frame(measured, hosts: list[str], matrix) -> pd.DataFrame:
    """Each test a WASIp1 host failed: what the guest said first, the check, the matrix's verdict."""
    from ..reach.suite import CHECK_OF

    rows = []
    for host in hosts:
        for _, test, said in measured.failed(host):
            check = CHECK_OF.get(said.split(" ", 1)[0])
            rows.append({"host": host, "test": test, "first failed expectation": said, "matrix check": check or "-",
                         "matrix verdict": matrix.cell(host, check).verdict if check else "the host refused the list"})
    return pd.DataFrame(rows)
