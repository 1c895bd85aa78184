"""allocator.io.yaml_safe builds what yaml.safe_load builds, for every document of plain data,
and refuses the hostile ones with the line."""

from __future__ import annotations

import datetime

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.errors import ProblemError
from allocator.io.yaml_safe import MAX_DEPTH, parse

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                    st.floats(allow_nan=False), st.text(max_size=12),
                    st.sampled_from(["010", "0x1F", "1_000", "1.5e+3", ".inf", "yes", "Off",
                                     "~", "2024-01-02", "1:30", "190:20:30.15", "-.5", "+4"]))
documents = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=5),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(-5, 5)), kids, max_size=5)),
    max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([None, False, True]))
def test_same_value_as_safe_load(doc, flow):
    text = yaml.safe_dump(doc, default_flow_style=flow)
    assert parse(text).data == yaml.safe_load(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["010", "0o17", "0b101", "1_0", "12:30:01", "1.", ".5",
                                 "-1.5e-3", "1__0", "+.inf", "-.Inf", ".NAN", "TRUE", "n",
                                 "Null", "2001-12-14t21:59:43.10-05:00", "007", "-0"]),
                min_size=1, max_size=8))
def test_plain_scalars_resolve_as_yaml_1_1_does(values):
    text = "[" + ", ".join(values) + "]"
    got, want = parse(text).data, yaml.safe_load(text)
    assert [repr(v) for v in got] == [repr(v) for v in want]     # nan == nan by repr


def test_aliases_are_shared_and_merge_keys_work():
    text = ("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n"
            "multi:\n  <<: [*b, {z: 9, x: 7}]\nsame: *b\n")
    got = parse(text).data
    assert got == yaml.safe_load(text)
    assert got["other"] == {"x": 1, "y": 3} and got["multi"] == {"x": 1, "y": 2, "z": 9}
    assert got["same"] is got["base"]
    assert isinstance(parse("d: 2024-01-02\n").data["d"], datetime.date)


@pytest.mark.parametrize("text, message, line", [
    ("a: &a [*a]\n", "recursive alias", 1),
    ("a: 1\nb:\n  c: 2\n  c: 3\n", "duplicate key 'c' (first at line 3)", 4),
    ("a: !!python/name:os.system\n", "'!!python/name:os.system' is not allowed", 1),
    ("x: 1\ny: !custom 5\n", "'!custom' is not allowed", 2),
    ("? [a]\n: 1\n", "a key must be a plain value", 1),
    ("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", "nesting deeper", 1),
    ("a: &x [1, 2]\nb:\n  <<: *x\n", "merge key", 3),
    ("a: [1\n", "malformed YAML", 2),
])
def test_refusals_name_the_line(text, message, line):
    with pytest.raises(ProblemError) as info:
        parse(text, source="f.yaml")
    assert message in str(info.value) and str(info.value).startswith(f"f.yaml:{line}:")


def test_depth_counts_through_aliases():
    # 40 levels written once, referenced from 40 levels deep: 80 in all, past the limit.
    inner = "[" * 40 + "]" * 40
    outer = "[" * 40 + "*i" + "]" * 40
    with pytest.raises(ProblemError, match="aliases expanded"):
        parse(f"i: &i {inner}\no: {outer}\n")
    assert parse(f"i: &i {inner}\n").data is not None


def test_a_bomb_is_refused_in_linear_time():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{k}: &{k} [{', '.join(['*' + p] * 10)}]\n" for p, k in zip("abcdefghijkl", "bcdefghijklm"))
    with pytest.raises(ProblemError, match=r"expand \d+ written nodes to [\d,]{15,}"):
        parse(bomb)
