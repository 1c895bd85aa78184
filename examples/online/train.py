"""A preemptible training job for online runs (`allocator run problem.yaml --policy ...`).

It does STEPS steps of SECONDS each, saves its progress after every step, stops when sent
SIGTERM (the run preempts it so), and resumes from its checkpoint when started again. It
prints the devices it was given. The checkpoint is deleted once the job is done, so the
example can be run again from the start.
"""

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

steps, seconds = int(sys.argv[1]), float(sys.argv[2])
task = os.environ.get("ALLOCATOR_TASK", "job")
checkpoint = Path(tempfile.gettempdir()) / "allocator-online-example" / f"{task}.step"
checkpoint.parent.mkdir(parents=True, exist_ok=True)
done = int(checkpoint.read_text()) if checkpoint.exists() else 0
stopped = []
signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
print(f"{task} on {os.environ.get('ALLOCATOR_DEVICES')}: from step {done} of {steps}",
      flush=True)
while done < steps and not stopped:
    time.sleep(seconds)
    done += 1
    partial = checkpoint.with_suffix(".partial")      # written whole, then swapped in: a kill
    partial.write_text(str(done))                     # never leaves a half-written checkpoint
    os.replace(partial, checkpoint)
if done >= steps:
    checkpoint.unlink(missing_ok=True)
sys.exit(0 if done >= steps else 3)
