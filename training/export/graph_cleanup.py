"""
Inference-time cleanup of a traced decoder graph, so that ONNX Runtime runs fewer nodes per decoding step.

    /usr/bin/python3 -m training.export.graph_cleanup models/<name>/onnx/model.onnx [--out path]

At one token per step a 6-layer model runs ~210 nodes; most take a few microseconds each, so small nodes cost as
much as the matrix products. Tracing leaves two kinds of nodes that compute nothing a constant could not say:

1. Reshape targets built at run time. `q.view(B, T, H, hd)` traces to Shape(x) -> Gather(i) -> Unsqueeze ->
   Concat(..., [H, hd]) -> Reshape(q, target): 5 nodes per reshape. When dimension i of the target is dimension i of
   a tensor whose dimension i is provably the same as the reshaped tensor's (ONNX shape inference gives both the same
   symbolic name, e.g. "batch_size"), Reshape's own "0 = copy this dimension" says the same thing, so the target
   becomes a constant such as [0, 0, 6, 64]. Dimensions that cannot be proven equal are left alone.
2. Casts to the type their input already has (`att.float()` on float32 attention scores).

Both rewrites keep every input and output name and are checked by the parity tests (training/tests/test_export.py).
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference


def _producers(graph):
    return {out: node for node in graph.node for out in node.output}


def _constant_ints(name, producers, initializers):
    """The int64 values of a constant tensor (initializer or Constant node), or None."""
    if name in initializers:
        return numpy_helper.to_array(initializers[name]).astype(np.int64).reshape(-1).tolist()
    node = producers.get(name)
    if node is not None and node.op_type == "Constant":
        for attr in node.attribute:
            if attr.name == "value":
                return numpy_helper.to_array(attr.t).astype(np.int64).reshape(-1).tolist()
    return None


def _dims(name, value_info):
    """Symbolic or fixed dimensions of a tensor from shape inference: a list of str|int|None, or None."""
    info = value_info.get(name)
    if info is None or not info.type.tensor_type.HasField("shape"):
        return None
    dims = []
    for d in info.type.tensor_type.shape.dim:
        dims.append(d.dim_param if d.HasField("dim_param") else (d.dim_value if d.HasField("dim_value") else None))
    return dims


def _copied_dim(name, producers, initializers):
    """If `name` is Unsqueeze(Gather(Shape(src), i)) (a 1-element tensor holding dim i of src): (src, i)."""
    unsq = producers.get(name)
    if unsq is None or unsq.op_type != "Unsqueeze":
        return None
    gather = producers.get(unsq.input[0])
    if gather is None or gather.op_type != "Gather":
        return None
    shape = producers.get(gather.input[0])
    index = _constant_ints(gather.input[1], producers, initializers)
    if shape is None or shape.op_type != "Shape" or index is None or len(index) != 1 or shape.attribute:
        return None
    return shape.input[0], index[0]


def fold_reshape_targets(model):
    """Rewrite 1 (see the module docstring). Returns the number of Reshape targets made constant."""
    total = 0
    # Shape inference stops at the first run-time Reshape target, so each pass proves the next block's shapes.
    while True:
        folded = _fold_reshape_targets_once(model)
        total += folded
        if folded == 0:
            return total


def _fold_reshape_targets_once(model):
    inferred = shape_inference.infer_shapes(model)
    graph = model.graph
    value_info = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)}
    producers = _producers(graph)
    initializers = {t.name: t for t in graph.initializer}
    folded = 0
    for node in graph.node:
        if node.op_type != "Reshape" or any(a.name == "allowzero" and a.i for a in node.attribute):
            continue
        concat = producers.get(node.input[1])
        if concat is None or concat.op_type != "Concat":
            continue
        data_dims = _dims(node.input[0], value_info)
        target = []
        for position, part in enumerate(concat.input):
            values = _constant_ints(part, producers, initializers)
            if values is not None and len(values) == 1 and values[0] != 0:
                target.append(values[0])
                continue
            copied = _copied_dim(part, producers, initializers)
            if copied is None or data_dims is None:
                break
            src, index = copied
            src_dims = _dims(src, value_info)
            if src_dims is None or index >= len(src_dims):
                break
            if isinstance(src_dims[index], int) and src_dims[index] > 0:
                target.append(src_dims[index])  # a fixed size (the model width): a plain constant
                continue
            same = (index == position and position < len(data_dims)
                    and isinstance(src_dims[index], str) and src_dims[index] == data_dims[position])
            if not same:
                break
            target.append(0)  # Reshape: 0 copies the input's dimension at this position
        else:
            const_name = f"{node.name or node.output[0]}_folded_target"
            graph.initializer.append(numpy_helper.from_array(np.array(target, dtype=np.int64), const_name))
            node.input[1] = const_name
            folded += 1
    _remove_dead_nodes(graph)
    return folded


def drop_identity_casts(model):
    """Rewrite 2 (see the module docstring). Returns the number of Casts removed."""
    inferred = shape_inference.infer_shapes(model)
    graph = model.graph
    types = {v.name: v.type.tensor_type.elem_type
             for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)}
    for t in graph.initializer:
        types[t.name] = t.data_type
    graph_outputs = {o.name for o in graph.output}
    graph_inputs = {i.name for i in graph.input}
    removed = 0
    for node in list(graph.node):
        if node.op_type != "Cast":
            continue
        to = next((a.i for a in node.attribute if a.name == "to"), None)
        source, target = node.input[0], node.output[0]
        if to is None or types.get(source) != to:
            continue
        if target in graph_outputs:
            # Keep the output's name: the producer of `source` writes `target` directly.
            if source in graph_inputs or source in graph_outputs or source not in _producers(graph):
                continue
            graph.node.remove(node)
            _rename_value(graph, source, target)
        else:
            graph.node.remove(node)
            _rename_value(graph, target, source)
        removed += 1
    return removed


def _rename_value(graph, old, new):
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
        for i, name in enumerate(node.output):
            if name == old:
                node.output[i] = new
    for info in graph.value_info:
        if info.name == old:
            info.name = new


def _remove_dead_nodes(graph):
    """Drops nodes whose outputs nobody reads (the Shape/Gather/Unsqueeze/Concat chains left by folding)."""
    while True:
        used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
        dead = [node for node in graph.node if not any(out in used for out in node.output)]
        if not dead:
            break
        for node in dead:
            graph.node.remove(node)
    used = {name for node in graph.node for name in node.input}
    for init in list(graph.initializer):
        if init.name not in used:
            graph.initializer.remove(init)


def simplify(model):
    """Applies both rewrites in place; returns {"reshape_targets_folded": n, "casts_removed": m, "nodes": before -> after}."""
    before = len(model.graph.node)
    casts = drop_identity_casts(model)
    folded = fold_reshape_targets(model)
    onnx.checker.check_model(model)
    return {"reshape_targets_folded": folded, "casts_removed": casts, "nodes_before": before, "nodes_after": len(model.graph.node)}


def simplify_file(src, dst=None):
    model = onnx.load(src)
    report = simplify(model)
    onnx.save(model, dst or src)
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--out", default=None, help="write here instead of in place")
    args = ap.parse_args(argv)
    print(simplify_file(args.model, args.out))


if __name__ == "__main__":
    sys.exit(main())
