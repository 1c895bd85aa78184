"""Generalized assignment: the per-(task, pool) time and cost tables, per-pool horizons and the
max sense, checked by brute force on small random instances and against published optima on
the OR-Library and Yagiura instances (read from ../shared/benchmarks; skipped where absent)."""

from __future__ import annotations

import itertools
import textwrap

import numpy as np
import pytest

import allocator
from allocator.io import orlib as gap
from allocator.errors import ProblemError
from allocator.backends import SolveOptions, get_backend
from allocator.objectives import OBJECTIVES
from allocator.heuristics import HEURISTICS
from allocator.solver.starts import lp_rounding

from .conftest import ENGINES, solved

ROOT = gap.benchmark_root()
KNOWN = gap.known_values()
needs_data = pytest.mark.skipif(ROOT is None, reason="../shared/benchmarks (GAP instances) "
                                "is absent; set ALLOCATOR_BENCHMARKS to its folder")


def brute_force(inst: gap.GapInstance, sense: str) -> float | None:
    """Best total cost over every assignment of jobs to agents within capacity."""
    best = None
    for combo in itertools.product(range(inst.agents), repeat=inst.jobs):
        a = np.array(combo)
        if inst.feasible(a):
            v = inst.value(a)
            if best is None or (v < best if sense == "min" else v > best):
                best = v
    return best


def random_instance(seed: int, m: int = 3, n: int = 6) -> gap.GapInstance:
    rng = np.random.default_rng(seed)
    use = rng.integers(5, 26, size=(m, n))
    return gap.GapInstance(f"rand{seed}", cost=rng.integers(10, 51, size=(m, n)), use=use,
                           capacity=np.floor(0.8 * use.sum(axis=1) / m))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("sense", ["min", "max"])
def test_small_instances_match_brute_force_on_every_engine(seed, sense, engine):
    inst = random_instance(seed)
    want = brute_force(inst, sense)
    problem = gap.to_problem(inst, sense)
    if want is None:
        plan = allocator.solve(problem, **engine)
        assert plan.status == "infeasible"
        return
    plan = solved(problem, **engine)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(want)
    a = gap.assignment_of(problem, plan)
    assert inst.feasible(a) and inst.value(a) == pytest.approx(want)
    # The bound is on the right side of the objective for the sense.
    if sense == "min":
        assert plan.bound <= plan.objective + 1e-6
    else:
        assert plan.bound >= plan.objective - 1e-6


def test_regret_places_the_task_that_would_lose_most_first():
    # Two agents with room for one job each. Cheapest first in file order puts job 0 on agent
    # 0 (2) and job 1 on agent 1 (10): 12. Job 1 loses 9 by not getting agent 0, job 0 only 1,
    # so regret places job 1 first: job 1 -> agent 0 (1), job 0 -> agent 1 (3): 4, the optimum.
    inst = gap.GapInstance("regret", cost=np.array([[2, 1], [3, 10]]), use=np.ones((2, 2)),
                           capacity=np.array([1, 1]))
    problem = gap.to_problem(inst, "min")
    plan = allocator.solve(problem, objective="cost", method="regret")
    assert allocator.verify(problem, plan) == []
    assert gap.assignment_of(problem, plan).tolist() == [1, 0]
    assert plan.objective == 4 == brute_force(inst, "min")
    # Fixed placements (an LP's whole ones) are kept as given.
    assignment, reason = HEURISTICS["regret"](problem, "cost", fixed={0: 0})
    assert reason is None and assignment == {"job1": "agent1[0]", "job2": "agent2[0]"}


@pytest.mark.parametrize("seed", range(20))
def test_regret_and_lp_rounding_are_feasible_and_no_better_than_brute_force(seed):
    inst = random_instance(seed, m=3, n=7)
    want = brute_force(inst, "min")
    problem = gap.to_problem(inst, "min")
    plan = allocator.solve(problem, method="regret")
    assert allocator.verify(problem, plan) == []
    if want is None:
        assert plan.status == "infeasible"
    elif plan.status == "feasible":
        assert plan.objective >= want
    # The LP-rounded start that seeds the solver: the LP's whole placements kept, the rest
    # placed by regret; feasible and no better than the optimum when it finds a plan.
    built = OBJECTIVES["cost"].build(problem)
    relaxed = get_backend("highs").solve(built.model.relaxed(), SolveOptions(), None)
    if relaxed.x is None:                       # the LP is infeasible, so is the problem
        assert want is None
        return
    whole = built.integral(relaxed.x)
    rounded = lp_rounding(problem, "cost", whole, 0)
    if want is None:
        assert rounded is None
    elif rounded is not None:
        name, assignment, value = rounded
        a = gap.assignment_of(problem, allocator.Plan(
            problem=problem.name, objective_name="cost", status=allocator.Status.FEASIBLE,
            assignment=assignment))
        assert inst.feasible(a) and inst.value(a) == value >= want
        assert all(a[i] == problem.device_pool[d] for i, d in whole.items())


def test_hand_worked_instance_both_senses():
    # Agent 1 holds one job (capacity 3, each job uses 3 there); agent 2 holds two of them.
    inst = gap.GapInstance("toy", cost=[[1, 5, 9], [4, 2, 2]], use=[[3, 3, 3], [2, 2, 2]],
                           capacity=[3, 4])
    lo = solved(gap.to_problem(inst, "min"))
    hi = solved(gap.to_problem(inst, "max"))
    assert lo.objective == 5.0        # job1 -> agent1 (1), jobs 2, 3 -> agent2 (2 + 2)
    assert hi.objective == 15.0       # job3 -> agent1 (9), jobs 1, 2 -> agent2 (4 + 2)
    assert lo.sense == "min" and hi.sense == "max"


YAML = textwrap.dedent("""\
    name: tables
    objective: cost
    pools:
      - {name: a, kind: gpu, count: 1, memory: 80GiB, throughput: 100 TFLOP/s, horizon: 5h,
         cost_per_hour: 2}
      - {name: b, kind: gpu, count: 2, memory: 80GiB, throughput: 100 TFLOP/s,
         cost_per_hour: 1}
    horizon: 4h
    tasks:
      - {name: t1, memory: 1GiB}
      - {name: t2, memory: 1GiB, compute: 3.6e17 FLOP}
      - {name: t3, memory: 1GiB, compute: 7.2e17 FLOP}
    time:
      t1: {a: 3h, b: 4h}
    cost:
      t2: {a: 0.5}
    """)


def test_time_and_cost_tables_and_pool_horizon_from_yaml():
    p = allocator.loads(YAML)
    # t1: times from the table; t2, t3: compute / throughput (1 h and 2 h).
    assert p.ptime.tolist() == [[3 * 3600, 4 * 3600], [3600, 3600], [7200, 7200]]
    # Prices: the table for (t2, a), else cost_per_hour x hours.
    assert p.price.tolist() == [[6.0, 4.0], [0.5, 1.0], [4.0, 2.0]]
    assert p.pool_horizon.tolist() == [5 * 3600, 4 * 3600]
    assert allocator.from_dict(allocator.to_dict(p)) == p
    plan = solved(p)
    # Cheapest: t1 on b (4), t2 on a (0.5), t3 on b (2) = 6.5; t1 and t3 go to different b's.
    assert plan.objective == pytest.approx(6.5)
    assert plan.assignment["t2"] == "a[0]"
    assert allocator.evaluate(p, plan).cost == pytest.approx(6.5)
    assert allocator.solve(p, method="lpt").objective >= 6.5


def test_pool_horizon_binds():
    # Pool a's own 5 h horizon holds t1 (3 h, a only) and t3 (2 h, a only); t2 would be cheaper
    # on a too, but no longer fits there, so it goes to the dear pool b, whose horizon is 1 h.
    doc = allocator.to_dict(allocator.loads(YAML))
    doc["pools"][1].update(count=1, horizon=3600, cost_per_hour=10)
    doc["time"] = {"t1": {"a": 3 * 3600, "b": None}}
    doc["tasks"][2]["allowed_pools"] = ["a"]
    plan = solved(allocator.from_dict(doc))
    assert plan.assignment == {"t1": "a[0]", "t2": "b[0]", "t3": "a[0]"}
    assert plan.objective == pytest.approx(6 + 10 + 4)
    # With 4 h on pool a, t1 and t3 no longer fit together.
    doc["pools"][0]["horizon"] = 4 * 3600
    with pytest.raises(ProblemError, match="device-hours"):
        allocator.from_dict(doc)
    plan = allocator.solve(allocator.from_dict(doc, check=False))
    assert plan.status == "infeasible"


BAD = {
    "cost cell null": (YAML.replace("t2: {a: 0.5}", "t2: {a: null}"), "cost.t2.a",
                       "must be a number"),
    "time unknown pool": (YAML.replace("t1: {a: 3h, b: 4h}", "t1: {a: 3h, c: 4h}"), "time.t1.c",
                          "unknown pool 'c'"),
    "time wrong unit": (YAML.replace("t1: {a: 3h, b: 4h}", "t1: {a: 3 GiB, b: 4h}"), "time.t1.a",
                        "time"),
    "cost negative": (YAML.replace("t2: {a: 0.5}", "t2: {a: -1}"), "cost.t2.a", "non-negative"),
    "no compute, no time": (YAML.replace("t1: {a: 3h, b: 4h}", "t1: {a: 3h}"), "tasks[0]",
                            "nor a 'time' for pool 'b'"),
    "max sense with makespan": (YAML.replace("objective: cost", "objective: makespan\nsense: max"),
                                "sense", "cost objective only"),
    "pool horizon too short": (YAML.replace("horizon: 5h", "horizon: 1h").replace(
        "horizon: 4h", "horizon: 1h"), None, "longer than the horizon"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_tables_get_one_clear_message(case):
    text, path, fragment = BAD[case]
    with pytest.raises(ProblemError) as info:
        allocator.loads(text)
    assert fragment in str(info.value)
    if path is not None:
        assert info.value.path == path


def test_heuristics_refuse_the_max_sense():
    problem = gap.to_problem(random_instance(0), "max")
    with pytest.raises(allocator.AllocatorError, match="maximises"):
        allocator.solve(problem, method="lpt")


def test_truncated_file_is_named(tmp_path):
    f = tmp_path / "gapx.txt"
    f.write_text("1\n2 3\n1 2 3 4 5 6\n1 1 1\n")
    with pytest.raises(ProblemError, match="truncated"):
        gap.read_orlib(f)


# -- published optima -------------------------------------------------------------------------

# One problem of each OR-Library file (both senses) is enough for CI time; benchmarks/gap.py
# solves all 60 in both senses, and gapa-gapd, and the Yagiura set.
ORLIB_CASES = [(f"gap{k}", 1 + (k % 5)) for k in range(1, 13)]


@needs_data
@pytest.mark.parametrize("file,number", ORLIB_CASES, ids=[f"{f}-{n}" for f, n in ORLIB_CASES])
@pytest.mark.parametrize("sense", ["min", "max"])
def test_orlib_published_optimum(file, number, sense):
    inst = gap.instances(file)[number - 1]
    known = KNOWN[(inst.name, sense)]
    assert known.optimal
    plan = solved(gap.to_problem(inst, sense))
    assert plan.status == "optimal"
    assert plan.objective == known.value


@needs_data
@pytest.mark.parametrize("name", ["gap1-1", "gap4-3", "gap8-5"])
def test_orlib_published_optimum_on_cbc(name):
    if ("pulp", "CBC") not in ENGINES:
        pytest.skip("CBC is not installed")
    file, number = name.split("-")
    inst = gap.instances(file)[int(number) - 1]
    plan = solved(gap.to_problem(inst, "min"), backend="pulp", solver="CBC")
    assert plan.objective == KNOWN[(name, "min")].value


@needs_data
@pytest.mark.parametrize("name", ["a05100", "b10100", "c05100"])
def test_chu_beasley_published_optimum(name):
    group = "gap" + name[0]
    inst = next(i for i in gap.instances(group) if i.name == name)
    plan = solved(gap.to_problem(inst, "min"))
    assert plan.status == "optimal"
    assert plan.objective == KNOWN[(name, "min")].value


@needs_data
def test_yagiura_reader_agrees_with_orlib_copy():
    # The 24 gapa-gapd problems are also in the Yagiura set; both readers give the same numbers.
    ours = {i.name: i for i in gap.instances("gapd")}
    theirs = gap.read_yagiura(ROOT / "yagiura-gap" / "d10100.zip")
    twin = ours["d10100"]
    assert (twin.cost == theirs.cost).all() and (twin.use == theirs.use).all()
    assert (twin.capacity == theirs.capacity).all()
    assert [len(gap.instances(f"yagiura-{t}")) for t in "abcde"] == [6, 6, 15, 15, 15]
