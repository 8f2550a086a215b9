"""
Weight-only quantization of an exported decoder with numpy + onnx alone (no onnxruntime needed).

    /usr/bin/python3 -m training.export.quantize models/<name>/onnx/model.onnx [--out ...] \
        [--mode dq8|nbits8|nbits4|dqmm]

Every MatMul whose second input is a 2-D float initializer W [K, N] gets int8 weights:
    dq8     W_q int8 [K, N] + per-output-channel scale [N] -> DequantizeLinear(axis=1) -> MatMul
            (plain ONNX, opset 13+; runs in any ONNX runtime)
    nbits8  com.microsoft MatMulNBits, 8-bit, block 32 along K (ORT's fast weight-only kernel); by default with
            accuracy_level 4: without it ORT 1.30 has no fast one-row kernel for 8-bit weights (measured on the
            Qwen2.5-Coder-0.5B shape, training/fixtures/shape_model.py: 0.7 tokens/s decode, against 41 with it)
    nbits4  com.microsoft MatMulNBits, 4-bit, block 32 along K (smaller, a little less exact); by default with
            accuracy_level 4: ORT quantizes the activations to int8 per block and uses integer dot products
            (AVX2 / AVX512-VNNI), measured 1.3-1.45x the decode speed of accuracy_level 0 (docs/PERFORMANCE.md)
    dqmm    com.microsoft DynamicQuantizeMatMul (int8 activations x int8 weights)
The token-embedding Gather (the table indexed by input_ids) becomes an int8 table with one scale per row:
Gather(int8) -> Cast -> Mul(Gather(scale)). Other Gathers (the positional table) stay float32.
Default output names follow Hugging Face: model_quantized.onnx (8-bit), model_q4.onnx (4-bit).
"""

import argparse
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

MS_DOMAIN = "com.microsoft"
INT8_ACTIVATIONS = 4  # MatMulNBits accuracy_level: int8 compute


def _ensure_ms_opset(model):
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))


def _per_channel_int8(w):
    """Symmetric int8 per output column: w [K, N] -> q int8 [K, N], scale float32 [N]."""
    amax = np.abs(w).max(axis=0)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale[None, :]), -127, 127).astype(np.int8)
    return q, scale


def _nbits_pack(w, bits, block=32):
    """MatMulNBits layout: w [K, N] -> B uint8 [N, n_blocks, block*bits/8], scales float32 [N*n_blocks],
    zero points packed uint8 (symmetric: the mid value)."""
    K, N = w.shape
    n_blocks = (K + block - 1) // block
    pad = n_blocks * block - K
    wt = np.pad(w.T, ((0, 0), (0, pad))).reshape(N, n_blocks, block)       # [N, nb, block]
    qmax = (1 << (bits - 1)) - 1                                             # 7 or 127
    zp = 1 << (bits - 1)                                                     # 8 or 128
    amax = np.abs(wt).max(axis=2)                                            # [N, nb]
    scale = np.where(amax > 0, amax / qmax, 1.0).astype(np.float32)          # [N, nb]
    q = np.clip(np.rint(wt / scale[:, :, None]), -qmax, qmax).astype(np.int32) + zp  # [N, nb, block] unsigned
    if bits == 8:
        packed = q.astype(np.uint8)                                          # [N, nb, block]
        zps = np.full((N, n_blocks), zp, dtype=np.uint8)
    else:
        q = q.astype(np.uint8)
        packed = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)     # [N, nb, block/2] low nibble first
        zpn = np.full((N, n_blocks + (n_blocks & 1)), zp, dtype=np.uint8)
        zps = (zpn[:, 0::2] | (zpn[:, 1::2] << 4)).astype(np.uint8)          # [N, ceil(nb/2)]
    return packed, scale.reshape(-1), zps.reshape(-1)


def quantize_model(model, mode="dq8", block=32, accuracy_level=None, quantize_embedding=True, min_elements=0):
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_inputs = {i.name for i in graph.input}
    new_inits, new_nodes_before = [], {}
    done = {}  # weight name -> replacement (for shared weights)
    drop = set()
    nodes = list(graph.node)
    out_nodes = []
    for node in nodes:
        if node.op_type == "MatMul" and node.input[1] in inits:
            wname = node.input[1]
            w = numpy_helper.to_array(inits[wname])
            if w.ndim != 2 or w.dtype != np.float32 or w.size < min_elements:
                out_nodes.append(node)
                continue
            K, N = w.shape
            base = wname.replace("/", "_").replace(":", "_")
            if mode == "dq8":
                if wname not in done:
                    q, scale = _per_channel_int8(w)
                    new_inits += [numpy_helper.from_array(q, base + "_q"),
                                  numpy_helper.from_array(scale, base + "_scale"),
                                  numpy_helper.from_array(np.zeros(N, np.int8), base + "_zp")]
                    dq = helper.make_node("DequantizeLinear", [base + "_q", base + "_scale", base + "_zp"],
                                          [base + "_dq"], name=base + "_DequantizeLinear", axis=1)
                    out_nodes.append(dq)
                    done[wname] = base + "_dq"
                node.input[1] = done[wname]
                out_nodes.append(node)
            elif mode in ("nbits8", "nbits4"):
                bits = 8 if mode == "nbits8" else 4
                if wname not in done:
                    packed, scale, zps = _nbits_pack(w, bits, block)
                    new_inits += [numpy_helper.from_array(packed, base + f"_q{bits}"),
                                  numpy_helper.from_array(scale, base + f"_s{bits}"),
                                  numpy_helper.from_array(zps, base + f"_z{bits}")]
                    done[wname] = (base + f"_q{bits}", base + f"_s{bits}", base + f"_z{bits}")
                qn, sn, zn = done[wname]
                attrs = dict(K=K, N=N, bits=bits, block_size=block)
                if accuracy_level is not None:
                    attrs["accuracy_level"] = accuracy_level
                out_nodes.append(helper.make_node("MatMulNBits", [node.input[0], qn, sn, zn], list(node.output),
                                                  name=(node.name or base) + "_nbits", domain=MS_DOMAIN, **attrs))
                _ensure_ms_opset(model)
            elif mode == "dqmm":
                if wname not in done:
                    q, scale = _per_channel_int8(w)
                    new_inits += [numpy_helper.from_array(q, base + "_q"),
                                  numpy_helper.from_array(scale, base + "_scale"),
                                  numpy_helper.from_array(np.zeros(N, np.int8), base + "_zp")]
                    done[wname] = (base + "_q", base + "_scale", base + "_zp")
                qn, sn, zn = done[wname]
                out_nodes.append(helper.make_node("DynamicQuantizeMatMul", [node.input[0], qn, sn, zn],
                                                  list(node.output), name=(node.name or base) + "_dqmm",
                                                  domain=MS_DOMAIN))
                _ensure_ms_opset(model)
            else:
                raise ValueError(mode)
            drop.add(wname)
        elif (quantize_embedding and node.op_type == "Gather" and node.input[0] in inits
              and node.input[1] in graph_inputs and node.input[1] == "input_ids"):
            tname = node.input[0]
            t = numpy_helper.to_array(inits[tname])
            if t.ndim != 2 or t.dtype != np.float32:
                out_nodes.append(node)
                continue
            base = tname.replace("/", "_").replace(":", "_")
            amax = np.abs(t).max(axis=1)
            scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)            # [V]
            q = np.clip(np.rint(t / scale[:, None]), -127, 127).astype(np.int8)          # [V, C]
            new_inits += [numpy_helper.from_array(q, base + "_rows_q"),
                          numpy_helper.from_array(scale, base + "_rows_scale"),
                          numpy_helper.from_array(np.array([-1], np.int64), base + "_axes_last")]
            out = node.output[0]
            out_nodes += [
                helper.make_node("Gather", [base + "_rows_q", node.input[1]], [out + "_q"], name=base + "_gather_q", axis=0),
                helper.make_node("Cast", [out + "_q"], [out + "_f"], name=base + "_cast", to=TensorProto.FLOAT),
                helper.make_node("Gather", [base + "_rows_scale", node.input[1]], [out + "_s"], name=base + "_gather_s", axis=0),
                helper.make_node("Unsqueeze", [out + "_s", base + "_axes_last"], [out + "_s1"], name=base + "_unsq"),
                helper.make_node("Mul", [out + "_f", out + "_s1"], [out], name=base + "_dequant"),
            ]
            drop.add(tname)
        else:
            out_nodes.append(node)
    # drop float initializers that nothing uses any more
    still_used = set()
    for n in out_nodes:
        still_used.update(n.input)
    keep = [i for i in graph.initializer if not (i.name in drop and i.name not in still_used)]
    del graph.initializer[:]
    graph.initializer.extend(keep + new_inits)
    del graph.node[:]
    graph.node.extend(out_nodes)
    # drop value_info of removed tensors
    return model


def quantize_file(src, dst, bits=8, mode=None, **kw):
    mode = mode or ("nbits4" if bits == 4 else "dq8")
    if mode in ("nbits4", "nbits8") and kw.get("accuracy_level") is None:
        kw["accuracy_level"] = INT8_ACTIVATIONS
    model = onnx.load(src)
    quantize_model(model, mode=mode, **kw)
    if mode == "dq8":
        onnx.checker.check_model(model)
    onnx.save(model, dst)
    return dst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--out", default=None)
    ap.add_argument("--mode", choices=["dq8", "nbits8", "nbits4", "dqmm"], default="dq8")
    ap.add_argument("--block", type=int, default=32)
    ap.add_argument("--accuracy-level", type=int, default=None)
    ap.add_argument("--no-embedding", action="store_true", help="keep the token embedding in float32")
    args = ap.parse_args(argv)
    default = "model_q4.onnx" if args.mode == "nbits4" else "model_quantized.onnx"
    out = args.out or os.path.join(os.path.dirname(args.model), default)
    quantize_file(args.model, out, mode=args.mode, block=args.block, accuracy_level=args.accuracy_level,
                  quantize_embedding=not args.no_embedding)
    print(f"{out}: {os.path.getsize(out) / 1e6:.2f} MB (from {os.path.getsize(args.model) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
