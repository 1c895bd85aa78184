"""``allocator import FORMAT ...``: other formats into the project's own problem files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import INPUT_FILE, _note, _writable, _write, app

imports = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                      context_settings={"help_option_names": ["-h", "--help"]},
                      help="Import a cluster trace as a problem file.")
app.add_typer(imports, name="import")


@imports.command()
def alibaba(
    nodes: Path = typer.Argument(..., metavar="NODES_CSV", help="Nodes file (sn, cpu_milli, "
                                 "memory_mib, gpu, model).", **INPUT_FILE),
    pods: Path = typer.Argument(..., metavar="PODS_CSV", help="Pods file (name, cpu_milli, "
                                "memory_mib, num_gpu, gpu_milli, gpu_spec, qos, ...).",
                                **INPUT_FILE),
    out_file: Path = typer.Option(..., "--out", callback=_writable,
                                  help="The problem file to write (.yaml)."),
    name: Optional[str] = typer.Option(None, help="The problem's name (default: the pods "
                                       "file's name)."),
    qos_weight: list[str] = typer.Option([], "--qos-weight", metavar="CLASS=WEIGHT",
                                         help="Weight of the pods of a QoS class in the "
                                         "placed demand, e.g. LS=2 (repeatable; default 1)."),
) -> None:
    """Import the Alibaba GPU cluster trace v2023 (openb_node_list_*.csv and
    openb_pod_list_*.csv) as a packing problem."""
    import yaml
    from ..io.alibaba import import_alibaba
    from ..io.problem_files import from_dict
    doc = import_alibaba(nodes, pods, name, _weights(qos_weight))
    problem = from_dict(doc)                      # what is written must load
    text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=120)
    _write(out_file, lambda path: path.write_text(text, encoding="utf-8"), "problem")
    gpus = problem.gpu_count
    asked = sum(t.gpu_demand for t in problem.tasks)
    _note(f"{len(problem.devices):,} nodes in {len(problem.pools)} groups ({gpus:,} GPUs); "
          f"{len(problem.tasks):,} tasks asking for {asked:,.1f} GPUs")


def _weights(pairs: list[str]) -> dict[str, float]:
    """``LS=2`` pairs as {class: weight}; a malformed pair is a usage error."""
    out = {}
    for pair in pairs:
        qos, sep, text = pair.partition("=")
        try:
            weight = float(text)
        except ValueError:
            weight = None
        if not sep or not qos.strip() or weight is None:
            raise typer.BadParameter(f"expected CLASS=WEIGHT (LS=2), got {pair!r}",
                                     param_hint="--qos-weight")
        out[qos.strip()] = weight
    return out
