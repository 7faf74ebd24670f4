"""Sweeps, plots and widgets, all on real runs."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import pandas as pd
import pytest

from analysis.experiments import sweeps
from analysis.model import chain
from analysis.model.describe import sentence, step_sentence
from analysis.runs import pool
from analysis.show import diagrams, plots
from analysis.show.views import prose
from analysis.show.widgets import Debouncer, Explorer, Stepper

from conftest import AFFECTED, FIXED, REPORT_CASE, cli

BUILDS = ("native", AFFECTED, FIXED)


@pytest.fixture(scope="module")
def count_frame(runner) -> pd.DataFrame:
    return sweeps.count_sweep("equal", 8, BUILDS).run(runner, progress=False)


def test_sweep_has_the_documented_columns(count_frame):
    assert list(count_frame.columns) == list(sweeps.COLUMNS)
    assert len(count_frame) == sum(range(1, 9)) * len(BUILDS)
    assert set(count_frame["build"]) == set(BUILDS)
    five = count_frame[(count_frame["build"] == AFFECTED) & (count_frame["count"] == 5)]
    assert list(five["outcome"]) == ["ok", "missing", "missing", "missing", "ok"]
    assert list(five["position_class"]) == ["first", "middle", "middle", "middle", "last"]


@pytest.mark.parametrize("make", [
    lambda: sweeps.scheme_sweep(6, BUILDS, custom=["/srv", "/srv/www", "/", "/tmp", "/home", "/x"]),
    lambda: sweeps.order_sweep(["/", "/tmp", "/tmp/x", "/home", "/data"], [AFFECTED]),
    lambda: sweeps.report_sweep(BUILDS),
])
def test_the_model_predicts_every_run_of_a_sweep(runner, make):
    frame = make().run(runner, progress=False)
    disagree = frame[frame["outcome"] != frame["model_outcome"]]
    assert disagree.empty, disagree.to_string()


def test_orders_sweep_covers_every_permutation():
    sweep = sweeps.order_sweep(["/a", "/b", "/c", "/d"], [AFFECTED])
    assert sweep.runs == 24 and len({s.paths for s in sweep.scenarios}) == 24


def test_sweeps_save_as_csv(count_frame, tmp_path):
    path = sweeps.save(count_frame, "counts", tmp_path)
    assert pd.read_csv(path, keep_default_na=False).shape == count_frame.shape


def _png(fig, tmp_path, name):
    path = plots.save(fig, tmp_path / f"{name}.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    return path


def test_plots_render(count_frame, runner, tmp_path):
    _png(plots.survival_grid(count_frame), tmp_path, "grid")
    _png(plots.survival_by_position(count_frame), tmp_path, "position")
    _png(plots.build_matrix(sweeps.report_sweep(BUILDS).run(runner, progress=False)), tmp_path, "matrix")
    _png(plots.survival_grid([runner.run(REPORT_CASE, adapter=AFFECTED)]), tmp_path, "row")
    for behavior in ("missing-increment", "fixed"):
        for fd in (3, 5):
            _png(diagrams.scratch_diagram(chain.explain(REPORT_CASE, fd, behavior)), tmp_path, f"s{behavior}{fd}")


def test_sentence_says_what_happened(runner):
    assert sentence(runner.run(REPORT_CASE, adapter=AFFECTED)) == (
        "fds 4..6 report `/e` (the last name); only `/a` and `/e` are reachable.")
    assert sentence(runner.run(REPORT_CASE, adapter=FIXED)) == (
        "Every fd reports its own name; all 5 preopens are reachable.")
    misrouted = sentence(runner.run(["/", "/tmp", "/home"], adapter=AFFECTED))
    assert "`/tmp` goes to fd 3 (`/`) and reads 'preopen-0:tmp'" in misrouted


def test_explorer_runs_the_report_case_on_each_build(runner):
    explorer = Explorer(runner)
    assert explorer.paths() == list(REPORT_CASE)
    explorer.build.value = AFFECTED
    assert explorer.result.outcomes == ("ok", "missing", "missing", "missing", "ok")
    assert "only <code>/a</code> and <code>/e</code> are reachable" in explorer.view.value
    explorer.build.value = FIXED
    assert explorer.result.outcomes == ("ok",) * 5
    explorer.build.value = "model: missing-increment"
    assert explorer.result.outcomes == ("ok", "missing", "missing", "missing", "ok")


def test_explorer_orders_and_names(runner):
    explorer = Explorer(runner)
    explorer.build.value = AFFECTED
    explorer.order.value = "reversed"
    assert explorer.result.paths == tuple(reversed(REPORT_CASE))
    explorer.order.value = "by hand"  # nothing typed yet: a prompt, not an error
    assert explorer.result is None and explorer.error is None
    assert "Type an order" in explorer.view.value and "Cannot run" not in explorer.view.value
    assert not explorer.by_hand.disabled and explorer.seed.disabled
    explorer.by_hand.value = "0 1 2 3 9"
    assert explorer.result is None and "must name each of the positions 0..4" in explorer.view.value
    explorer.by_hand.value = "4 0 3 1 2"
    assert explorer.result.paths == ("/e", "/a", "/d", "/b", "/c")
    explorer.order.value = "as given"
    assert explorer.by_hand.disabled
    explorer.scheme.value = "custom"
    explorer.custom.value = "/, /tmp, /home"  # three names: three slots, and the slider says 3
    assert explorer.result.outcomes == ("ok", "misrouted", "ok")
    assert explorer.count.value == 3 and explorer.count.disabled
    assert all(not text.continuous_update for text in (explorer.custom, explorer.by_hand, explorer.seed))


def test_explorer_shows_a_trap_instead_of_raising(runner):
    explorer = Explorer(runner, max_count=130)
    explorer.build.value = FIXED
    explorer.count.value = 126
    assert set(explorer.result.outcomes) == {"trap"}
    assert "trapped" in explorer.view.value


def test_stepper_walks_the_models_trace():
    trace = chain.explain(REPORT_CASE, 5, "missing-increment")
    assert Stepper(REPORT_CASE, "missing-increment", fd=5).step.value == len(trace.steps) + 1  # opens at the copy
    stepper = Stepper(REPORT_CASE, "missing-increment", fd=5, at=0)
    assert stepper.trace == trace
    for step in range(len(trace.steps) + 2):
        assert stepper.step.value == step
        assert prose(step_sentence(trace, step)) in stepper.caption.value  # the same words, `x` as code
        stepper.next.click()
    assert stepper.step.value == len(trace.steps) + 1  # stops at the copy
    assert "<code>/e</code>, not the name it asked for" in stepper.caption.value
    stepper.behavior.value = "fixed"
    assert stepper.trace == chain.explain(REPORT_CASE, 5, "fixed")
    stepper.prev.click()
    assert "is thrown away at offset 2" in stepper.caption.value


def test_debouncer_collapses_a_burst_into_one_call():
    calls = []

    async def burst():
        debounced = Debouncer(lambda: calls.append(1), delay=0.02)
        for _ in range(10):
            debounced()
        await asyncio.sleep(0.1)

    asyncio.run(burst())
    assert calls == [1]


def test_sweep_from_the_cli(tmp_path):
    done = cli("sweep", "counts", "--builds", "native", AFFECTED, "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "count-equal.csv").is_file()
    assert (tmp_path / "figures" / "count-equal-by-position.png").is_file()
    assert "model agrees on 110/110 preopens" in done.stdout


def test_a_sweep_on_worker_processes_gives_the_serial_rows(runner):
    sweep = sweeps.order_sweep(["/", "/tmp", "/tmp/x", "/home", "/data"], ["native", AFFECTED, FIXED])
    serial = sweep.run(runner, progress=False, workers=1)
    shared = sweep.run(runner, progress=False, workers=2)
    assert len(serial) == 5 * 120 * 3 and shared.equals(serial)


def test_workers_are_forked_only_while_the_process_has_one_thread():
    """A fresh command forks its workers; once it has run a guest (wasmtime's runtime
    threads now exist) it starts them from the fork server instead."""
    script = (
        "from analysis.runs import pool, runner\n"
        "def method():\n"
        "    with pool.Workers(2) as workers:\n"
        "        return workers.start_method\n"
        f"print(pool.single_threaded(), method())\n"
        f"runner.run(['/a', '/b'], adapter={AFFECTED!r})\n"
        "print(pool.single_threaded(), method())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True fork", "False forkserver"]


def test_a_sweep_on_forked_workers_writes_the_serial_csv(tmp_path):
    """From the command line (a fresh process, so the workers are forked): the same bytes."""
    for workers in ("1", "2"):
        done = cli("sweep", "schemes", "--builds", "native", AFFECTED, "--workers", workers,
                   "--out", str(tmp_path / workers))
        assert done.returncode == 0, done.stderr
    serial, shared = (tmp_path / w / "data" / "schemes-5.csv" for w in ("1", "2"))
    assert serial.read_bytes() == shared.read_bytes()


def test_a_fresh_process_forks_its_sweep_workers_and_gets_the_serial_rows():
    script = (
        "from analysis.experiments import sweeps\n"
        "from analysis.runs import pool\n"
        "methods, start = [], pool.Workers.__init__\n"
        "def watched(self, count):\n"
        "    start(self, count)\n"
        "    methods.append(self.start_method)\n"
        "pool.Workers.__init__ = watched\n"
        f"sweep = sweeps.scheme_sweep(5, ['native', {AFFECTED!r}])\n"
        "shared = sweep.run(progress=False, workers=2)\n"
        "serial = sweep.run(progress=False, workers=1)\n"
        "print(methods, shared.equals(serial), len(shared))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    methods, same, rows = done.stdout.strip().rsplit(" ", 2)
    assert (methods, same) == ("['fork']", "True") and int(rows) > 0


def test_guided_chunks_cover_every_item_once_in_order_and_end_small():
    items = list(range(5040))
    chunks = pool.guided_chunks(items, 2)
    assert [i for chunk in chunks for i in chunk] == items
    assert len(chunks[0]) == 250 and max(map(len, chunks[-5:])) <= 50


def test_a_build_matrix_of_thousands_of_scenarios_is_summarised_by_fd(runner, tmp_path):
    frame = sweeps.order_sweep(["/a", "/bb", "/c", "/dd", "/e"], [AFFECTED]).run(runner, progress=False)
    figure = plots.build_matrix(frame)
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert labels == [f"fd {fd}" for fd in range(3, 8)]
    assert "120 scenarios" in figure.axes[0].get_xlabel()
    _png(figure, tmp_path, "summary")


def test_pinning_keeps_a_process_on_one_cpu():
    done = subprocess.run([sys.executable, "-c", "import os; from analysis.runs.cpus import pin_to_cpu, usable_cpus; "
                           "cpu = pin_to_cpu(usable_cpus()[-1]); print(cpu, sorted(os.sched_getaffinity(0)))"],
                          capture_output=True, text=True, timeout=60)
    cpu, allowed = done.stdout.split(" ", 1)
    assert allowed.strip() == f"[{cpu}]"


def test_each_scheme_is_what_its_meaning_says():
    from analysis.experiments.scenarios import SCHEME_MEANINGS, SCHEMES

    assert set(SCHEME_MEANINGS) == set(SCHEMES)
    assert {len(p) for p in SCHEMES["equal"](26)} == {2} and {len(p) for p in SCHEMES["equal"](27)} == {3}
    assert [len(p) - 1 for p in SCHEMES["varied"](16)] == [*range(1, 9)] * 2
    shared = SCHEMES["shared-prefix"](5)
    assert all(any(a != b and (b.startswith(a) or a.startswith(b)) for b in shared) for a in shared)
    nested = SCHEMES["nested"](5)
    assert nested[0] == "/" and any(b.startswith(a + "/") for a in nested[1:] for b in nested)


def test_the_ceiling_table_gives_each_build_one_row_of_numbers_and_the_detail_says_what_happened(runner):
    from analysis.show import views

    ceiling = sweeps.ceiling(builds=BUILDS, runner=runner)
    table, detail = views.ceiling_frame(ceiling), views.ceiling_detail(ceiling)
    assert len(table) <= len(BUILDS) and list(table.columns)[1:] == [f"{n} preopens" for n in sweeps.AROUND_THE_CEILING]
    for row in ceiling.to_dict("records"):
        mine = [t for t in table.to_dict("records") if row["build"] in t["builds"].split(", ")]
        assert len(mine) == 1, row["build"]
        cell = mine[0][f"{row['preopens']} preopens"]
        said = [d["what happened"] for d in detail.to_dict("records")
                if row["build"] in d["builds"].split(", ") and d["preopens"] == row["preopens"]]
        if row["trap"]:
            assert cell == "⚠ trap" and said[0].startswith("⚠ trap at start-up") and row["trap cause"] in said[0]
        elif row["ok"] == row["preopens"]:
            assert cell == str(row["preopens"]) and not said
        else:
            assert cell == str(row["ok"]) and said[0].startswith(f"{row['ok']} reachable, {row['files read']} files read")


def test_grid_legends_name_only_the_outcomes_shown(runner):
    runs = [runner.run(REPORT_CASE, adapter=AFFECTED), runner.run(["/", "/tmp", "/home"], adapter=AFFECTED)]
    shown = {p.outcome for r in runs for p in r.preopens}
    fig = plots.survival_grid(runs, labels=["report", "nested"])
    legend = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    assert legend == shown and "trap" not in legend and {"ok", "missing", "misrouted"} <= legend


def test_grid_cells_show_a_long_path_by_its_start_and_its_end(runner):
    paths = ["/srv/www/htdocs", "/home/user/projects/alpha", "/tmp"]
    fig = plots.survival_grid([runner.run(paths)])
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert shown[0] == "/srv/www/htdocs" and shown[2] == "/tmp"
    assert shown[1].startswith("/home/user") and shown[1].endswith("alpha") and "…" in shown[1]


def test_the_pipeline_marks_the_allocator_from_the_run_it_draws(runner):
    counted = []
    for build in (AFFECTED, FIXED):
        result = runner.run(REPORT_CASE, adapter=build)
        wrong = sum(p.name_seen != p.path for p in result.preopens)
        counted.append(wrong)
        words = " ".join(t.get_text() for t in diagrams.pipeline(result).axes[0].texts)
        if wrong:
            assert f"the bytes go wrong here:\n{wrong} of {len(REPORT_CASE)} names told wrong" in words
        else:
            assert "every name told right" in words and "go wrong" not in words
        assert all(f"fd {p.expected_fd}  {p.path}" in words for p in result.preopens)
    assert counted[0] > 0 == counted[1]  # both branches were drawn


def test_orders_of_the_same_names_share_one_directory_per_position():
    from analysis.runs.runner import Runner

    runner = Runner()
    sweep = sweeps.named_sweep("orders", [AFFECTED])
    for scenario in sweep.scenarios[::100]:  # 51 different orders of seven names
        runner.run(scenario.paths, adapter=AFFECTED)
    kept = [p for p in runner._kept.root.iterdir() if p.name != "io"]
    assert len(kept) == 7  # one per position: a MARKER naming it, no decoys among these names
    runner.close()
    assert not runner._kept.root.exists()
