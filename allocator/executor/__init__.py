"""Run plans on real devices: workloads, memory estimates, profiling and execution."""

from .memory import MemoryEstimate, MemoryTracker, estimate_memory
from .workloads import WORKLOADS, Workload, register_workload

__all__ = [
           "WORKLOADS",
           "MemoryEstimate",
           "MemoryTracker",
           "Workload",
           "estimate_memory",
           "register_workload",
]
