"""training/export/graph_cleanup.py: folds only what shape inference proves, keeps names (parity: test_export.py)."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from training.export import graph_cleanup


def reshape_graph(data_shape):
    """x [batch, seq, 8]; data (= x, or x flattened to [batch*seq, 8]) reshaped to [x.dim0, x.dim1, 2, 4],
    with the target built at run time the way torch.onnx traces `view(B, T, 2, 4)`; then a float->float Cast."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", 2, 4])
    inits = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
             [("i0", 0), ("i1", 1), ("axes", [0]), ("heads", [2]), ("hd", [4]), ("flat", [-1, 8])]]
    nodes = [helper.make_node("Shape", ["x"], ["s"])]
    for i in (0, 1):
        nodes += [helper.make_node("Gather", ["s", f"i{i}"], [f"g{i}"]),
                  helper.make_node("Unsqueeze", [f"g{i}", "axes"], [f"u{i}"])]
    nodes.append(helper.make_node("Concat", ["u0", "u1", "heads", "hd"], ["target"], axis=0))
    if data_shape == "flat":
        nodes.append(helper.make_node("Reshape", ["x", "flat"], ["data"]))  # [batch*seq, 8]: dim 0 is not batch
    else:
        nodes.append(helper.make_node("Identity", ["x"], ["data"]))
    nodes += [helper.make_node("Reshape", ["data", "target"], ["r"], name="split_heads"),
              helper.make_node("Cast", ["r"], ["y"], to=TensorProto.FLOAT)]
    graph = helper.make_graph(nodes, "g", [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_folds_a_provable_target_to_copy_dims_and_drops_the_identity_cast():
    model = reshape_graph("same")
    report = graph_cleanup.simplify(model)
    assert report["reshape_targets_folded"] == 1 and report["casts_removed"] == 1
    reshape = next(n for n in model.graph.node if n.name == "split_heads")
    target = next(i for i in model.graph.initializer if i.name == reshape.input[1])
    assert numpy_helper.to_array(target).tolist() == [0, 0, 2, 4]
    assert reshape.output[0] == "y"  # the graph output keeps its name
    assert not [n for n in model.graph.node if n.op_type in ("Shape", "Gather", "Concat", "Cast")]


def test_leaves_a_target_whose_dimensions_differ_from_the_data():
    model = reshape_graph("flat")
    report = graph_cleanup.simplify(model)
    assert report["reshape_targets_folded"] == 0
    reshape = next(n for n in model.graph.node if n.name == "split_heads")
    assert reshape.input[1] == "target"
    assert any(n.op_type == "Shape" for n in model.graph.node)
