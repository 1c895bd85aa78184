"""What a job of a cluster plan sees: its node, its GPUs and its share of them."""

import os

print(f"{os.environ['ALLOCATOR_TASK']} on {os.environ['ALLOCATOR_NODE']}: "
      f"CUDA_VISIBLE_DEVICES={os.environ['CUDA_VISIBLE_DEVICES']!r}, "
      f"GPUs {os.environ['ALLOCATOR_GPUS'] or 'none'} of the node, "
      f"share {os.environ['ALLOCATOR_GPU_SHARE']}")
