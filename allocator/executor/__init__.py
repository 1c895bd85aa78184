"""Run plans on real devices: workloads, memory estimates, profiling and execution.

Torch is imported only when something runs, so planning never needs it.
"""

from .devices import resolve_devices
from ..domain.memory import MemoryEstimate, estimate_memory
from .memory import MemoryTracker
from .profiler import Measurement, Profile, profile
from .results import Attempt, ExecutionReport, TaskOutcome, check_report, load_report
from .runner import execute
from ..domain.workloads import WORKLOADS, Workload, register_workload

__all__ = ["Attempt", "ExecutionReport", "Measurement", "MemoryEstimate", "MemoryTracker",
           "Profile", "TaskOutcome", "WORKLOADS", "Workload", "check_report",
           "estimate_memory", "execute", "load_report", "profile", "register_workload", "resolve_devices"]
