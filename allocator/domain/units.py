"""Units, parsed once at the edge. Inside the library everything is an SI float.

Dimensions: ``bytes``, ``flop`` (an amount of work), ``flop_rate`` (FLOP/s), ``time`` (seconds),
``cores`` (CPU cores; ``500m`` is half a core, as in Kubernetes), ``number`` (dimensionless).
A plain number is taken in the SI base unit of the dimension. Bytes also take Kubernetes'
binary suffixes (``16Gi``).

>>> parse_quantity("80GiB", "bytes")
85899345920.0
>>> parse_quantity("312 TFLOP/s", "flop_rate")
312000000000000.0
>>> parse_quantity("4h", "time")
14400.0
"""

from __future__ import annotations

import math
import re

from ..errors import ProblemError

_PREFIX = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}

BYTE_UNITS: dict[str, float] = {"B": 1.0, "kB": 1e3}
for _p, _f in _PREFIX.items():
    if _p:
        BYTE_UNITS[f"{_p}B"] = _f
        BYTE_UNITS[f"{_p}iB"] = 1024.0 ** (list(_PREFIX).index(_p))
        BYTE_UNITS[f"{_p}i"] = 1024.0 ** (list(_PREFIX).index(_p))     # Kubernetes: 16Gi

FLOP_UNITS: dict[str, float] = {}
RATE_UNITS: dict[str, float] = {}
for _p, _f in _PREFIX.items():
    FLOP_UNITS[f"{_p}FLOP"] = _f
    FLOP_UNITS[f"{_p}FLOPs"] = _f
    RATE_UNITS[f"{_p}FLOP/s"] = _f
    RATE_UNITS[f"{_p}FLOPS"] = _f
    RATE_UNITS[f"{_p}FLOP/sec"] = _f

TIME_UNITS: dict[str, float] = {
    "ms": 1e-3, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0,
    "h": 3600.0, "hr": 3600.0, "d": 86400.0, "day": 86400.0,
}

CORE_UNITS: dict[str, float] = {"m": 1e-3, "cores": 1.0, "core": 1.0}

UNITS = {"bytes": BYTE_UNITS, "flop": FLOP_UNITS, "flop_rate": RATE_UNITS, "time": TIME_UNITS,
         "cores": CORE_UNITS, "number": {}}

_EXAMPLE = {"bytes": "'80GiB'", "flop": "'2.5e18 FLOP'", "flop_rate": "'312 TFLOP/s'",
            "time": "'4h'", "cores": "'8' or '500m'", "number": "'3'"}

# The largest value each dimension accepts (SI). Beyond these, a value is a mistake of units
# and would overflow the models' coefficients (HiGHS reads 1e20 as infinity); see
# docs/problem-format.md#limits.
MAXIMUM = {"bytes": 2.0 ** 60, "flop": 1e30, "flop_rate": 1e24, "time": 1e12, "cores": 1e7,
           "number": 1e15}
_MAXIMUM_TEXT = {"bytes": "1 EiB (2^60 bytes)", "flop": "1e30 FLOP", "flop_rate": "1e24 FLOP/s",
                 "time": "1e12 s, about 31,700 years", "cores": "10 million cores",
                 "number": "1e15"}

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z/]*)\s*$")


def _lookup(unit: str, dimension: str) -> float | None:
    table = UNITS[dimension]
    if unit in table:
        return table[unit]
    # Spellings differ in case in the wild (Tflop/s, gib); accept them when unambiguous.
    folded = {k.lower(): v for k, v in table.items()}
    if dimension != "bytes" and unit.lower() in folded:
        return folded[unit.lower()]
    if dimension == "bytes" and unit.lower().endswith("ib") and unit.lower() in folded:
        return folded[unit.lower()]
    return None


def _which_dimension(unit: str) -> str | None:
    for dim in ("bytes", "flop", "flop_rate", "time"):
        if _lookup(unit, dim) is not None:
            return dim
    return None


def parse_quantity(value: object, dimension: str, path: str | None = None, *,
                   allow_zero: bool = False) -> float:
    """Parse ``value`` (number or ``"<number> <unit>"``) into SI units of ``dimension``.

    Raises :class:`ProblemError` naming ``path`` for unknown units, units of the wrong
    dimension, NaN/infinite values, negative values, and zero unless ``allow_zero``.
    """
    if isinstance(value, bool) or value is None:
        raise ProblemError(f"expected a quantity such as {_EXAMPLE[dimension]}, got {value!r}", path)
    if isinstance(value, (int, float)):
        number, factor = as_float(value, dimension, path), 1.0
    elif isinstance(value, str):
        m = _QUANTITY.match(value)
        if not m:
            raise ProblemError(
                f"cannot read {value!r} as a quantity; write a number and a unit such as "
                f"{_EXAMPLE[dimension]}", path)
        number, unit = float(m.group(1)), m.group(2)
        if unit == "":
            factor = 1.0
        else:
            factor = _lookup(unit, dimension)
            if factor is None:
                other = _which_dimension(unit)
                if other is not None and other != dimension:
                    raise ProblemError(
                        f"unit {unit!r} is a {other.replace('_', ' ')} unit but this field needs "
                        f"{dimension.replace('_', ' ')}, e.g. {_EXAMPLE[dimension]}", path)
                known = ", ".join(sorted(UNITS[dimension])) or "none (plain number)"
                raise ProblemError(f"unknown unit {unit!r} in {value!r}; known units: {known}", path)
    else:
        raise ProblemError(f"expected a quantity such as {_EXAMPLE[dimension]}, got {value!r}", path)
    result = number * factor
    if math.isnan(result) or math.isinf(result) or math.isnan(number) or math.isinf(number):
        raise ProblemError(f"{value!r} is not a finite number", path)
    if result < 0 or (result == 0 and not allow_zero):
        need = "non-negative" if allow_zero else "positive"
        raise ProblemError(f"must be {need}, got {value!r}", path)
    return check_maximum(result, dimension, path, value)


def check_maximum(result: float, dimension: str, path: str | None, value: object = None) -> float:
    """``result`` if it is within :data:`MAXIMUM` for ``dimension``, else a ProblemError."""
    if result > MAXIMUM[dimension]:
        raise ProblemError(f"{value if value is not None else result!r} is more than the largest "
                           f"{_what(dimension)} allowed ({_MAXIMUM_TEXT[dimension]}); check its "
                           f"unit", path)
    return result


def _what(dimension: str) -> str:
    return "value" if dimension == "number" else dimension.replace("_", " ")


def as_float(value: int | float, dimension: str, path: str | None) -> float:
    """A float, or a ProblemError for a whole number too large for one."""
    try:
        return float(value)
    except OverflowError:
        raise ProblemError(f"a {len(str(abs(value)))}-digit number is more than the largest "
                           f"{_what(dimension)} allowed ({_MAXIMUM_TEXT[dimension]})",
                           path) from None


def format_quantity(value: float, dimension: str) -> str:
    """Human-readable rendering, e.g. ``format_quantity(85899345920, 'bytes') == '80 GiB'``."""
    if dimension == "bytes":
        for unit in ("TiB", "GiB", "MiB", "KiB"):
            if abs(value) >= BYTE_UNITS[unit]:
                return f"{value / BYTE_UNITS[unit]:.4g} {unit}"
        return f"{value:.4g} B"
    if dimension == "time":
        for unit in ("d", "h", "min"):
            if abs(value) >= TIME_UNITS[unit] * (2 if unit == "d" else 1):
                return f"{value / TIME_UNITS[unit]:.4g} {unit}"
        return f"{value:.4g} s"
    if dimension in ("flop", "flop_rate"):
        suffix = "FLOP" if dimension == "flop" else "FLOP/s"
        for p in ("E", "P", "T", "G", "M", "K"):
            if abs(value) >= _PREFIX[p]:
                return f"{value / _PREFIX[p]:.4g} {p}{suffix}"
        return f"{value:.4g} {suffix}"
    return f"{value:.6g}"
