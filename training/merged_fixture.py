"""
Build test/fixtures/models/gpt2-tiny-merged/: Optimum's older "merged decoder" layout from gpt2-tiny.

    /usr/bin/python3 training/merged_fixture.py

Optimum used to export one `decoder_model_merged.onnx` holding two graphs behind an `If` on a boolean input
`use_cache_branch` [1]: the with-past branch reads past_key_values.*, the no-past branch ignores them (the first step).
We rebuild that shape from gpt2-tiny's graph: the then-branch is the graph as it is, the else-branch is the same
graph fed with empty constants instead of the past inputs. An engine that sets `use_cache_branch` wrongly while
decoding gets wrong logits, so the engine's parity tests on this fixture check that it feeds the flag right.
The weights are gpt2-tiny's, so gpt2-tiny's reference.json applies unchanged.
"""

import os
import shutil

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "test", "fixtures", "models")
SOURCE = os.path.join(FIXTURES, "gpt2-tiny")
TARGET = os.path.join(FIXTURES, "gpt2-tiny-merged")


def branch(graph: onnx.GraphProto, name: str, rename: dict) -> onnx.GraphProto:
    """A copy of the graph's nodes as an If branch; inputs listed in `rename` are read from other values."""
    nodes = []
    for node in graph.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        for i, value in enumerate(copy.input):
            if value in rename:
                copy.input[i] = rename[value]
        nodes.append(copy)
    # Branch outputs must be distinct values of the branch, so each is passed through an Identity.
    outputs = []
    for out in graph.output:
        nodes.append(helper.make_node("Identity", [out.name], [f"{name}/{out.name}"]))
        value = onnx.ValueInfoProto()
        value.CopyFrom(out)
        value.name = f"{name}/{out.name}"
        outputs.append(value)
    return helper.make_graph(nodes, name, [], outputs)


def main() -> None:
    model = onnx.load(os.path.join(SOURCE, "onnx", "model.onnx"))
    graph = model.graph
    past_inputs = [i for i in graph.input if i.name.startswith("past_key_values.")]
    # The no-past branch reads empty [batch, kv_heads, 0, head_dim] constants instead of the past inputs.
    empties, rename = [], {}
    for value in past_inputs:
        dims = value.type.tensor_type.shape.dim
        heads, head_dim = dims[1].dim_value, dims[3].dim_value
        const_name = f"empty/{value.name}"
        empties.append(helper.make_node(
            "Constant", [], [const_name],
            value=helper.make_tensor(const_name, TensorProto.FLOAT, [1, heads, 0, head_dim], []),
        ))
        rename[value.name] = const_name
    with_past = branch(graph, "with_past", {})
    no_past = branch(graph, "no_past", rename)
    for node in reversed(empties):
        no_past.node.insert(0, node)

    use_cache = helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])
    if_node = helper.make_node("If", ["use_cache_branch"], [o.name for o in graph.output],
                               then_branch=with_past, else_branch=no_past, name="optimum::if")
    merged = helper.make_graph([if_node], "decoder_model_merged", list(graph.input) + [use_cache],
                               list(graph.output), initializer=list(graph.initializer))
    out = helper.make_model(merged, opset_imports=model.opset_import, producer_name="attentive-fixtures")
    out.ir_version = model.ir_version
    onnx.checker.check_model(out)

    shutil.rmtree(TARGET, ignore_errors=True)
    shutil.copytree(SOURCE, TARGET, ignore=shutil.ignore_patterns("onnx"))
    os.makedirs(os.path.join(TARGET, "onnx"))
    onnx.save(out, os.path.join(TARGET, "onnx", "decoder_model_merged.onnx"))
    print(f"wrote {TARGET}/onnx/decoder_model_merged.onnx")


if __name__ == "__main__":
    main()
