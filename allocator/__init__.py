"""allocator: decide which device runs which ML task, and prove how good the choice is.

>>> import allocator
>>> problem = allocator.load("problems/small/two-devices.yaml")
>>> plan = allocator.solve(problem)
>>> allocator.verify(problem, plan)
[]
"""

from .checks import InfeasibleError
from .comparison import Comparison, compare
from .errors import AllocatorError, ProblemError
from .evaluate import Metrics, evaluate
from .executor import (ExecutionReport, check_report, estimate_memory, execute, profile,
                       register_workload)
from .io import dump, from_dict, load, loads, to_dict
from .plan import Plan, Slot, Status
from .problem import Pool, Problem, Task
from .solve import solve
from .verify import verify

__version__ = "0.1.0"

__all__ = ["AllocatorError", "Comparison", "compare", "ExecutionReport", "InfeasibleError",
           "Metrics", "Plan", "Pool", "Problem", "ProblemError", "Slot", "Status", "Task",
           "check_report", "dump", "estimate_memory", "evaluate", "execute", "from_dict", "load",
           "loads", "profile", "register_workload", "solve", "to_dict", "verify", "__version__"]
