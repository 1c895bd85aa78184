"""Gavel job lists: the importer, the ``allocator simulate`` command, and the simulator side
by side with Gavel's own results on the shared seed-0 lists (where present)."""

from __future__ import annotations

import csv
import json

import pytest

from allocator import ProblemError
from allocator.io.gavel import import_gavel, pair_rates, parse_cluster
from allocator.io.orlib import benchmark_root
from allocator.io.problem_files import from_dict
from allocator.online import JobSet, simulate

from .test_cli_installed import allocator_cli

HEADER = ("job_id,job_type,scale_factor,total_steps,duration_s_on_v100,arrival_time_s,"
          "priority_weight,v100_steps_per_s,p100_steps_per_s,k80_steps_per_s\n")
ROWS = ("0,ResNet-18 (batch size 64),1,3600.0,100.0,0.0,1.0,36.0,18.0,6.0\n"
        "1,LM (batch size 80),2,7200.0,100.0,30.0,1.0,72.0,36.0,0.0\n"
        "2,ResNet-18 (batch size 64),1,1800.0,50.0,400.0,1.0,36.0,18.0,6.0\n")
CLUSTER = {"v100": 1, "p100": 2, "k80": 1}
GAVEL = benchmark_root() and benchmark_root() / "traces" / "gavel"
JOBLISTS = GAVEL and GAVEL / "joblists"


def _list(tmp_path, rows=ROWS, name="jobs.csv"):
    path = tmp_path / name
    path.write_text(HEADER + rows)
    return path


def test_rows_become_jobs(tmp_path):
    doc = import_gavel(_list(tmp_path), CLUSTER)
    jobs = JobSet.from_problem(from_dict(doc, check=False))
    assert jobs.names == ("0", "1", "2")
    assert jobs.arrival.tolist() == [0.0, 30.0, 400.0]
    assert jobs.gang.tolist() == [1, 2, 1]
    # the whole job's rate; the LM gang (2 GPUs) fits no single v100 or k80
    assert jobs.rate.tolist() == [[36.0, 18.0, 6.0], [0.0, 36.0, 0.0], [36.0, 18.0, 6.0]]
    assert jobs.work.tolist() == [3600.0, 7200.0, 1800.0]


@pytest.mark.parametrize("old, new, words", [
    ("1,3600.0", "x,3600.0", "line 2: scale_factor must be a whole number"),
    ("3600.0,100.0,0.0", "-3600.0,100.0,0.0", "line 2: total_steps must be a finite number > 0"),
    ("2,ResNet", "0,ResNet", "line 4: job_id 0 also appears on line 2"),
    ("72.0,36.0,0.0", "0.0,0.0,0.0", "line 3: job 1 has a throughput of 0 on every GPU type"),
    ("30.0,1.0", "nan,1.0", "line 3: arrival_time_s must be a finite number"),
])
def test_malformed_rows_are_refused_with_their_line(tmp_path, old, new, words):
    with pytest.raises(ProblemError, match=words):
        import_gavel(_list(tmp_path, ROWS.replace(old, new, 1)), CLUSTER)


def test_cluster_specs(tmp_path):
    assert parse_cluster("v100=36, p100=36,k80=36") == {"v100": 36, "p100": 36, "k80": 36}
    for bad in ("v100", "v100=0", "v100=x", "v100=1,v100=2", "=3"):
        with pytest.raises(ProblemError):
            parse_cluster(bad)
    with pytest.raises(ProblemError, match="missing column a100_steps_per_s"):
        import_gavel(_list(tmp_path), {"a100": 4})


def test_pair_rates_read_gavels_table(tmp_path):
    key = "('ResNet-18 (batch size 64)', 1)"
    table = {t: {key: {"null": 1.0, key: [0.7, 0.6]}} for t in ("v100", "p100", "k80")}
    (tmp_path / "pairs.json").write_text(json.dumps(table))
    jobs = JobSet.from_problem(from_dict(import_gavel(_list(tmp_path), CLUSTER), check=False))
    kind, rates = pair_rates(tmp_path / "pairs.json", tmp_path / "jobs.csv", jobs.names,
                             jobs.gang, jobs.pools)
    assert kind[0] == kind[2] != kind[1]
    assert rates[:, kind[0], kind[0]].tolist() == [[0.7, 0.6]] * 3
    assert (rates[:, kind[0], kind[1]] == 0).all()        # not listed (and other gang sizes)


def test_simulate_command_writes_every_job(tmp_path):
    jobs = _list(tmp_path)
    out = tmp_path / "result.json"
    run = allocator_cli("simulate", str(jobs), "--cluster", "v100=1,p100=2,k80=1",
                        "--policy", "min_jct", "--round", "6m", "--out", str(out), "--plot")
    assert run.returncode == 0, run.stderr
    assert "mean JCT" in run.stdout
    result = json.loads(out.read_text())
    assert [j["job_id"] for j in result["jobs"]] == [0, 1, 2]
    # job 0 alone on the v100 (its fastest): 100 s; the LM gang, admitted at the end of that
    # round, on both p100s: 200 s; job 2 on the idle v100 from its arrival: 50 s
    assert [j["finish_s"] for j in result["jobs"]] == [100.0, 300.0, 450.0]
    assert result["summary"]["mean_jct_s"] == pytest.approx((100 + 270 + 50) / 3)
    assert (tmp_path / "result-jct.png").stat().st_size > 0
    assert (tmp_path / "result-utilization.png").stat().st_size > 0


def test_simulate_command_reads_a_problem_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: online\npools:\n  - {name: gpu, kind: gpu, count: 2, memory: 16GiB,"
                    " throughput: 1}\ntasks:\n  - {name: a, compute: 100}\n"
                    "  - {name: b, compute: 100, release: 1h, devices: 2}\n")
    run = allocator_cli("simulate", str(path), "--policy", "optimal", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["makespan_s"] == pytest.approx(3600 + 50)


@pytest.mark.parametrize("args, words", [
    (["--policy", "lass"], "'lass' is not one of"),
    ([], "a job list needs --cluster"),
    (["--cluster", "v100=1,p100=2", "--round", "6 parsecs"], "--round"),
    (["--cluster", "v100=1,p100=2", "--measure", "5:2"], "expected FIRST:END"),
    (["--cluster", "v100=1,p100=2", "--policy", "fifo", "--space-sharing"],
     "does not share devices"),
    (["--cluster", "v100=1,p100=2", "--plot"], "--plot needs --out"),
    (["--cluster", "v100=1,p100=2", "--restart-cost", "400"], "--restart-cost"),
    (["--cluster", "v100=1"], "task '1' can run on no pool: it holds 2 devices"),
    (["--cluster", "v100=1,p100=2", "--measure", "0:9"], "positions 0 to 2"),
])
def test_simulate_command_refuses_bad_input(tmp_path, args, words):
    run = allocator_cli("simulate", str(_list(tmp_path)), *args)
    assert run.returncode == 2
    assert words in run.stderr and "Traceback" not in run.stderr


# -- side by side with Gavel on its own job lists ----------------------------------------------

def _gavel(joblist: str, policy: str) -> dict:
    with (JOBLISTS / "results.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["joblist"] == joblist and row["policy"] == policy:
                return row
    raise KeyError((joblist, policy))


needs_gavel = pytest.mark.skipif(not (JOBLISTS and JOBLISTS.is_dir()),
                                 reason="the shared Gavel job lists are absent")
RATE1 = "continuous-single_may2020_rate1_seed0.csv"


@needs_gavel
@pytest.mark.parametrize("ours, theirs", [("max_min_fairness", "max_min_fairness_perf"),
                                          ("las", "max_min_fairness"),
                                          ("gandiva", "gandiva")])
def test_mean_jct_within_5_percent_of_gavel_on_the_small_continuous_list(ours, theirs):
    problem = from_dict(import_gavel(JOBLISTS / RATE1, {"v100": 12, "p100": 12, "k80": 12}),
                        check=False)
    result = simulate(problem, ours, measure=range(100, 300))
    gavel = float(_gavel(RATE1, theirs)["mean_jct_h"]) * 3600
    assert result.summary()["mean_jct_s"] == pytest.approx(gavel, rel=0.05)


@needs_gavel
def test_space_sharing_max_min_fairness_side_by_side():
    from dataclasses import replace
    name = "static-multi_may2020_n50_seed0.csv"
    problem = from_dict(import_gavel(JOBLISTS / name, {"v100": 36, "p100": 36, "k80": 36}),
                        check=False)
    jobs = JobSet.from_problem(problem)
    kind, rates = pair_rates(GAVEL / "simulation_throughputs.json", JOBLISTS / name, jobs.names,
                             jobs.gang, jobs.pools)
    result = simulate(replace(jobs, kind=kind, pair_rate=rates), "max_min_fairness")
    gavel = _gavel(name, "max_min_fairness_packed")
    assert result.summary()["makespan_s"] <= float(gavel["makespan_h"]) * 3600
    assert result.summary()["mean_jct_s"] == pytest.approx(float(gavel["mean_jct_h"]) * 3600,
                                                           rel=0.05)


@needs_gavel
def test_static_makespan_at_most_gavels():
    name = "static-multi_may2020_n100_seed0.csv"
    problem = from_dict(import_gavel(JOBLISTS / name, {"v100": 36, "p100": 36, "k80": 36}),
                        check=False)
    result = simulate(problem, "optimal")
    gavel = float(_gavel(name, "min_total_duration_perf")["makespan_h"]) * 3600
    bound = float(result.jobs.fastest.max())        # the longest job alone on a V100
    makespan = result.summary()["makespan_s"]
    assert bound <= makespan <= bound * 1.0005          # within 5 minutes of the bound
    assert makespan <= gavel + 60
