"""Run plans on real devices: workloads, memory estimates, profiling and execution."""

from .memory import MemoryEstimate, MemoryTracker, estimate_memory
from .workloads import WORKLOADS, Workload, register_workload

__all__ = ["MemoryEstimate", "MemoryTracker", "WORKLOADS", "Workload", "estimate_memory",
           "register_workload"]
