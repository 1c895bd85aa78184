import math

import pytest

from allocator.errors import ProblemError
from allocator.domain.units import format_quantity, parse_quantity


@pytest.mark.parametrize("text, dim, expected", [
    ("80GiB", "bytes", 80 * 1024 ** 3),
    ("80 GB", "bytes", 80e9),
    ("512 MiB", "bytes", 512 * 1024 ** 2),
    ("1.5 TiB", "bytes", 1.5 * 1024 ** 4),
    ("100B", "bytes", 100.0),
    (4096, "bytes", 4096.0),
    ("6e21 FLOP", "flop", 6e21),
    ("2.5e18 FLOP", "flop", 2.5e18),
    ("3 PFLOP", "flop", 3e15),
    ("10 GFLOPs", "flop", 1e10),
    ("312 TFLOP/s", "flop_rate", 312e12),
    ("312 TFLOPS", "flop_rate", 312e12),
    ("1.5 tflop/s", "flop_rate", 1.5e12),
    ("400 TFLOP/s", "flop_rate", 4e14),
    ("4h", "time", 14400.0),
    ("90 min", "time", 5400.0),
    ("30m", "time", 1800.0),
    ("2d", "time", 172800.0),
    ("45s", "time", 45.0),
    (7.5, "time", 7.5),
])
def test_parse(text, dim, expected):
    assert parse_quantity(text, dim) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("value, dim, fragment", [
    ("80 furlongs", "bytes", "unknown unit 'furlongs'"),
    ("2 FLOP", "flop_rate", "is a flop unit but this field needs flop rate"),
    ("4h", "bytes", "is a time unit but this field needs bytes"),
    ("-3 GiB", "bytes", "must be positive"),
    (0, "time", "must be positive"),
    (float("nan"), "time", "not a finite number"),
    (math.inf, "flop", "not a finite number"),
    ("lots", "flop", "cannot read 'lots'"),
    (True, "time", "expected a quantity"),
    ([1, 2], "time", "expected a quantity"),
])
def test_parse_rejects(value, dim, fragment):
    with pytest.raises(ProblemError) as info:
        parse_quantity(value, dim, "tasks[0].x")
    assert fragment in str(info.value)
    assert "tasks[0].x" in str(info.value)


def test_zero_allowed_when_asked():
    assert parse_quantity("0h", "time", allow_zero=True) == 0.0


def test_format_round_trips_magnitudes():
    assert format_quantity(80 * 1024 ** 3, "bytes") == "80 GiB"
    assert format_quantity(7200, "time") == "2 h"
    assert format_quantity(312e12, "flop_rate") == "312 TFLOP/s"
