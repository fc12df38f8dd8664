"""The model's graph run without dask.

What Rasa does: DaskGraphRunner.run builds a dask graph of the nodes the
targets need and runs it through dask's scheduler, at every message (the
NLU graph) and every prediction (the policies' graph). The graphs are a
handful of nodes, run one after the other: dask's own work costs more than
some of the nodes.

What we change: the nodes the targets need are called in dependency order,
each once, with its needs' outputs, as dask would; an input replaces the
node of its name, and a text input that names a node is refused, as Rasa
does; a node's RuntimeError becomes Rasa's GraphRunError.

Why: measured on 2026-12-03 (docs/benchmarks.md, "Changes to Rasa"): a
prediction takes 0.70 to 0.83 of the time (`python -m bench.micro`), and a
turn of the bench's conversations 13 to 17 % less CPU (about 2 ms of 15, in
process, NLU cache off), where `make bench` meets its throughput target
(3 x the baseline's) with nothing to spare. Kept for that; the risk is Rasa
changing its graph runner, which the version check of install() guards
against, and tests/test_rasa_patches.py compares it with dask's run.

Rasa names relied on: DaskGraphRunner.run(self, inputs, targets) and its
private _graph_schema (nodes, target_names, a node's `needs`) and
_instantiated_nodes (a GraphNode, called with its needs' (name, output)
pairs, returns its own (name, output) pair).
"""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

from rasa_patches.change import Change, Replacement


def _run_in_order(self: DaskGraphRunner, inputs: Dict[str, Any] | None = None,
                  targets: List[str] | None = None) -> Dict[str, Any]:
    inputs = inputs or {}
    nodes = self._graph_schema.nodes
    for value in inputs.values():
        if isinstance(value, str) and value in nodes:
            raise GraphRunError(f"Input value '{value}' clashes with a node name.")
    outputs: Dict[str, Any] = {}

    def output(name: str) -> Any:
        if name not in outputs:
            if name in inputs:
                outputs[name] = (name, inputs[name])
            else:
                needs = nodes[name].needs.values()
                outputs[name] = self._instantiated_nodes[name](*(output(need) for need in needs))
        return outputs[name]

    try:
        return dict(output(target) for target in targets or self._graph_schema.target_names)
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error


CHANGE = Change("graph_in_order", for_correctness=False, replaces=(
    Replacement(DaskGraphRunner, "run", lambda _rasas: _run_in_order),))
