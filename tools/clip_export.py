"""Convert OpenAI CLIP ViT-B/32 weights into the ONNX files of the fastsam-web text prompt
(tests/fixtures/clip/CONTRACT.md): ``clip-image.onnx``, ``clip-text.onnx`` and ``clip-bpe.txt.gz``.

Accepted sources (``SOURCE``):

* OpenAI's ``ViT-B-32.pt`` (the TorchScript archive of the ``clip`` package) or any file holding
  an OpenAI-layout state dict (``torch.save(model.state_dict())``, also inside
  ``{"state_dict": ...}`` as open_clip training checkpoints store it; a ``module.`` prefix is removed);
* an open_clip model name with its pretrained tag, ``ViT-B-32/openai`` (or
  ``ViT-B-32-quickgelu/<tag>``), loaded by open_clip from its cache (nothing is downloaded unless
  open_clip can reach the hub);
* a Hugging Face ``openai/clip-vit-base-patch32`` folder (``config.json`` and
  ``model.safetensors`` or ``pytorch_model.bin``): the HF names are mapped to the OpenAI ones,
  ``q/k/v_proj`` are concatenated into ``in_proj_*``, the projections are transposed.

The graphs are built by this file's own small modules (``ImageEncoder``, ``TextEncoder``) from
the OpenAI state dict, so the ONNX initializers carry exactly the OpenAI names (``visual.`` prefix
kept on the image side); they are exported with ``do_constant_folding=False``, opset 17, a
dynamic batch axis, and only plain ops (Conv, MatMul, Add, Mul, Sigmoid, Softmax,
LayerNormalization, Reshape, Transpose, Concat, Slice, Gather, ArgMax, Equal, Cast, Unsqueeze).
The causal mask of the text transformer is a ``Constant`` node [77, 77] per block (0 on and below
the diagonal, -1e4 above: finite, so that no runtime's exp sees -inf; exp(-1e4 + s) is 0 in f32),
added to the attention scores. The EOT row is picked with ArgMax + Equal + Cast + MatMul (a one-hot
row times the sequence), so the graph holds no Shape / Expand / GatherND.

Only ViT CLIP models with the OpenAI layout are accepted: QuickGELU, LayerNorm eps 1e-5,
class-token pooling, 32 px patches on a 224 px input (50 positions), pre-norm blocks without
layer scale; anything else (ModifiedResNet CLIP, SigLIP, CoCa, other patch sizes, GELU models)
is refused with a message.

Verification (unless ``--no-verify``): the exported files are run with onnxruntime on random
pixels and random token rows and compared with open_clip's ``CLIP`` holding the same weights
(max abs difference printed; ``--tolerance`` makes it fail).

Usage:
    python tools/clip_export.py ViT-B-32.pt --out web/models
    python tools/clip_export.py ViT-B-32/openai --out web/models
    python tools/clip_export.py ./clip-vit-base-patch32 --out web/models
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "1"
OPSET = 17
CONTEXT = 77  # text positions
IMAGE_SIZE = 224
PATCH = 32
GRID = IMAGE_SIZE // PATCH  # 7
POSITIONS = GRID * GRID + 1  # 50
EOT = 49407
SOT = 49406
MASK_VALUE = -1e4  # causal mask above the diagonal (finite on purpose, see the module doc)
LN_EPS = 1e-5
BPE_NAME = "bpe_simple_vocab_16e6.txt.gz"

META_FORMAT = "fastsam_web.clip.format"
META_HEADS = "fastsam_web.clip.heads"
META_MODEL = "fastsam_web.clip.model"


class ClipExportError(Exception):
    """A source that this converter cannot (or must not) turn into the contract's files."""


# --------------------------------------------------------------------------------------
# Layout of an OpenAI state dict
# --------------------------------------------------------------------------------------


@dataclass
class ClipLayout:
    """Sizes of an OpenAI-layout ViT CLIP, read from its state dict (heads are given)."""

    embed_dim: int
    vision_width: int
    vision_layers: int
    vision_heads: int
    text_width: int
    text_layers: int
    text_heads: int
    vocab: int
    context: int

    def describe(self) -> str:
        return (
            f"embed {self.embed_dim}; vision width {self.vision_width}, {self.vision_layers} layers, "
            f"{self.vision_heads} heads; text width {self.text_width}, {self.text_layers} layers, "
            f"{self.text_heads} heads, vocab {self.vocab}, context {self.context}"
        )


def _count_blocks(sd: dict[str, Any], prefix: str) -> int:
    ids = {k[len(prefix) :].split(".")[0] for k in sd if k.startswith(prefix)}
    n = len(ids)
    if ids != {str(i) for i in range(n)}:
        raise ClipExportError(f"the blocks under {prefix!r} are not numbered 0..{n - 1}: {sorted(ids)}")
    return n


def block_names(prefix: str) -> list[tuple[str, str]]:
    """(suffix, role) of the tensors of one residual attention block, OpenAI names."""
    return [
        ("ln_1.weight", "w"),
        ("ln_1.bias", "w"),
        ("attn.in_proj_weight", "qkv_w"),
        ("attn.in_proj_bias", "qkv_b"),
        ("attn.out_proj.weight", "sq"),
        ("attn.out_proj.bias", "w"),
        ("ln_2.weight", "w"),
        ("ln_2.bias", "w"),
        ("mlp.c_fc.weight", "fc_w"),
        ("mlp.c_fc.bias", "fc_b"),
        ("mlp.c_proj.weight", "proj_w"),
        ("mlp.c_proj.bias", "w"),
    ]


def expected_shapes(lay: ClipLayout) -> dict[str, tuple[int, ...]]:
    """Every tensor the contract names, with its shape."""
    shapes: dict[str, tuple[int, ...]] = {}

    def blocks(prefix: str, width: int, layers: int) -> None:
        for i in range(layers):
            for suffix, role in block_names(prefix):
                shapes[f"{prefix}{i}.{suffix}"] = {
                    "w": (width,),
                    "qkv_w": (3 * width, width),
                    "qkv_b": (3 * width,),
                    "sq": (width, width),
                    "fc_w": (4 * width, width),
                    "fc_b": (4 * width,),
                    "proj_w": (width, 4 * width),
                }[role]

    W, T, E = lay.vision_width, lay.text_width, lay.embed_dim
    shapes["visual.conv1.weight"] = (W, 3, PATCH, PATCH)
    shapes["visual.class_embedding"] = (W,)
    shapes["visual.positional_embedding"] = (POSITIONS, W)
    shapes["visual.ln_pre.weight"] = (W,)
    shapes["visual.ln_pre.bias"] = (W,)
    blocks("visual.transformer.resblocks.", W, lay.vision_layers)
    shapes["visual.ln_post.weight"] = (W,)
    shapes["visual.ln_post.bias"] = (W,)
    shapes["visual.proj"] = (W, E)
    shapes["token_embedding.weight"] = (lay.vocab, T)
    shapes["positional_embedding"] = (CONTEXT, T)
    blocks("transformer.resblocks.", T, lay.text_layers)
    shapes["ln_final.weight"] = (T,)
    shapes["ln_final.bias"] = (T,)
    shapes["text_projection"] = (T, E)
    return shapes


# keys an OpenAI / open_clip state dict may hold besides the contract's tensors
IGNORED_KEYS = {"logit_scale", "input_resolution", "context_length", "vocab_size", "attn_mask", "logit_bias"}


def check_openai_layout(sd: dict[str, Any], vision_heads: int | None = None, text_heads: int | None = None) -> ClipLayout:
    """Validate an OpenAI-layout ViT CLIP state dict against the contract and read its sizes.
    Heads default to width // 64 (as OpenAI's own loader infers them)."""
    if any(k.startswith("visual.layer1.") or k.startswith("visual.attnpool.") for k in sd):
        raise ClipExportError("this is a ModifiedResNet CLIP (RN50, RN101, ...): only ViT CLIP models are supported")
    if any(k.startswith("visual.trunk.") for k in sd):
        raise ClipExportError("this is a timm-tower open_clip model (SigLIP, ConvNeXt, ...): only OpenAI-layout ViT CLIP is supported")
    if any(k.startswith("text_decoder.") for k in sd):
        raise ClipExportError("this is a CoCa model: only OpenAI-layout ViT CLIP is supported")
    for key in ("visual.conv1.weight", "visual.proj", "visual.class_embedding", "token_embedding.weight", "text_projection"):
        if key not in sd:
            raise ClipExportError(f"not an OpenAI-layout ViT CLIP state dict: {key!r} is missing")
    if any(".ls_1." in k or ".ls_2." in k or k.startswith("visual.attn_pool") or ".ln_attn." in k for k in sd):
        raise ClipExportError("this model has layer scale / attentional pooling / extra norms: not the OpenAI CLIP block")
    conv = tuple(sd["visual.conv1.weight"].shape)
    if len(conv) != 4 or conv[1:] != (3, PATCH, PATCH):
        raise ClipExportError(f"visual.conv1.weight is {conv}: only 32 px patches (ViT-B/32 layout) are supported")
    pos = tuple(sd["visual.positional_embedding"].shape)
    if pos[0] != POSITIONS:
        raise ClipExportError(f"visual.positional_embedding has {pos[0]} rows: the contract needs a 224 px input ({POSITIONS})")
    if "visual.conv1.bias" in sd:
        raise ClipExportError("visual.conv1 has a bias: not the OpenAI CLIP patch embedding")
    W = conv[0]
    T = int(sd["ln_final.weight"].shape[0])
    E = int(sd["text_projection"].shape[1])
    lay = ClipLayout(
        embed_dim=E,
        vision_width=W,
        vision_layers=_count_blocks(sd, "visual.transformer.resblocks."),
        vision_heads=vision_heads or W // 64,
        text_width=T,
        text_layers=_count_blocks(sd, "transformer.resblocks."),
        text_heads=text_heads or T // 64,
        vocab=int(sd["token_embedding.weight"].shape[0]),
        context=int(sd["positional_embedding"].shape[0]),
    )
    if lay.context != CONTEXT:
        raise ClipExportError(f"context length {lay.context}: the contract needs {CONTEXT}")
    if lay.vocab <= EOT:
        raise ClipExportError(f"vocabulary of {lay.vocab} tokens: the CLIP BPE needs at least {EOT + 1}")
    for width, heads, what in ((W, lay.vision_heads, "vision"), (T, lay.text_heads, "text")):
        if heads <= 0 or width % heads:
            raise ClipExportError(f"{what} width {width} is not divisible into {heads} heads")
    want = expected_shapes(lay)
    for k, shape in want.items():
        if k not in sd:
            raise ClipExportError(f"missing tensor {k!r}")
        if tuple(sd[k].shape) != shape:
            raise ClipExportError(f"{k} has shape {tuple(sd[k].shape)}, expected {shape}")
    extra = sorted(k for k in sd if k not in want and k not in IGNORED_KEYS)
    if extra:
        raise ClipExportError(f"unexpected tensors (not an OpenAI-layout ViT CLIP): {extra[:8]}")
    return lay


# --------------------------------------------------------------------------------------
# Export modules (the contract's math; parameter names = OpenAI state-dict names)
# --------------------------------------------------------------------------------------


def _modules():
    """The export modules, built lazily so that importing this file does not need torch."""
    import torch
    from torch import nn

    class LayerNorm(nn.Module):
        def __init__(self, width: int):
            super().__init__()
            self.width = width
            self.weight = nn.Parameter(torch.ones(width))
            self.bias = nn.Parameter(torch.zeros(width))

        def forward(self, x):
            return nn.functional.layer_norm(x, (self.width,), self.weight, self.bias, LN_EPS)

    class Linear(nn.Module):
        """y = x @ weight^T + bias (weight [out, in], as nn.Linear stores it)."""

        def __init__(self, d_in: int, d_out: int):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(d_out, d_in))
            self.bias = nn.Parameter(torch.zeros(d_out))

        def forward(self, x):
            return torch.matmul(x, self.weight.t()) + self.bias

    class Attention(nn.Module):
        """Multi-head self-attention over a fixed number of positions (batch axis free)."""

        def __init__(self, width: int, heads: int, length: int):
            super().__init__()
            self.width, self.heads, self.length = width, heads, length
            self.in_proj_weight = nn.Parameter(torch.zeros(3 * width, width))
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
            self.out_proj = Linear(width, width)

        def forward(self, x, mask=None):
            W, H, L = self.width, self.heads, self.length
            D = W // H
            qkv = torch.matmul(x, self.in_proj_weight.t()) + self.in_proj_bias  # [N, L, 3W]

            def heads(t):  # [N, L, W] -> [N, H, L, D]
                return t.reshape(-1, L, H, D).transpose(1, 2)

            q = heads(qkv[:, :, 0:W]) * (1.0 / math.sqrt(D))
            k = heads(qkv[:, :, W : 2 * W])
            v = heads(qkv[:, :, 2 * W : 3 * W])
            s = torch.matmul(q, k.transpose(2, 3))  # [N, H, L, L]
            if mask is not None:
                s = s + mask
            a = torch.softmax(s, dim=-1)
            o = torch.matmul(a, v).transpose(1, 2).reshape(-1, L, W)
            return self.out_proj(o)

    class Mlp(nn.Module):
        def __init__(self, width: int):
            super().__init__()
            self.c_fc = Linear(width, 4 * width)
            self.c_proj = Linear(4 * width, width)

        def forward(self, x):
            h = self.c_fc(x)
            h = h * torch.sigmoid(1.702 * h)  # QuickGELU
            return self.c_proj(h)

    class Block(nn.Module):
        def __init__(self, width: int, heads: int, length: int):
            super().__init__()
            self.ln_1 = LayerNorm(width)
            self.attn = Attention(width, heads, length)
            self.ln_2 = LayerNorm(width)
            self.mlp = Mlp(width)

        def forward(self, x, mask=None):
            x = x + self.attn(self.ln_1(x), mask)
            return x + self.mlp(self.ln_2(x))

    class Transformer(nn.Module):
        def __init__(self, width: int, layers: int, heads: int, length: int):
            super().__init__()
            self.resblocks = nn.ModuleList([Block(width, heads, length) for _ in range(layers)])

        def forward(self, x, mask=None):
            for b in self.resblocks:
                x = b(x, mask)
            return x

    class Visual(nn.Module):
        def __init__(self, lay: ClipLayout):
            super().__init__()
            W = lay.vision_width
            self.width = W
            self.conv1 = nn.Conv2d(3, W, PATCH, stride=PATCH, bias=False)
            self.class_embedding = nn.Parameter(torch.zeros(W))
            self.positional_embedding = nn.Parameter(torch.zeros(POSITIONS, W))
            self.ln_pre = LayerNorm(W)
            self.transformer = Transformer(W, lay.vision_layers, lay.vision_heads, POSITIONS)
            self.ln_post = LayerNorm(W)
            self.proj = nn.Parameter(torch.zeros(W, lay.embed_dim))

    class ImageEncoder(nn.Module):
        """pixels [N,3,224,224] -> image_embeds [N,E]; parameters under ``visual.``."""

        def __init__(self, lay: ClipLayout):
            super().__init__()
            self.visual = Visual(lay)

        def forward(self, pixels):
            v = self.visual
            x = v.conv1(pixels)  # [N, W, 7, 7]
            x = x.reshape(-1, v.width, GRID * GRID).transpose(1, 2)  # [N, 49, W]
            cls = x[:, 0:1, :] * 0.0 + v.class_embedding  # [N, 1, W] without Shape/Expand ops
            x = torch.cat([cls, x], dim=1) + v.positional_embedding
            x = v.ln_pre(x)
            x = v.transformer(x)
            x = v.ln_post(x[:, 0, :])
            return torch.matmul(x, v.proj)

    class TextEncoder(nn.Module):
        """tokens [N,77] int64 -> text_embeds [N,E]; pooled at the first largest token id."""

        def __init__(self, lay: ClipLayout):
            super().__init__()
            T = lay.text_width
            self.token_embedding = nn.Embedding(lay.vocab, T)
            self.positional_embedding = nn.Parameter(torch.zeros(CONTEXT, T))
            self.transformer = Transformer(T, lay.text_layers, lay.text_heads, CONTEXT)
            self.ln_final = LayerNorm(T)
            self.text_projection = nn.Parameter(torch.zeros(T, lay.embed_dim))
            mask = torch.triu(torch.full((CONTEXT, CONTEXT), MASK_VALUE), diagonal=1)
            self.register_buffer("attn_mask", mask, persistent=False)
            self.register_buffer("positions", torch.arange(CONTEXT, dtype=torch.int64), persistent=False)

        def forward(self, tokens):
            x = self.token_embedding(tokens) + self.positional_embedding  # [N, 77, T]
            x = self.transformer(x, self.attn_mask)
            eot = torch.argmax(tokens, dim=-1, keepdim=True)  # [N, 1], first maximum
            onehot = (self.positions == eot).to(x.dtype).unsqueeze(1)  # [N, 1, 77]
            x = torch.matmul(onehot, x)[:, 0, :]  # [N, T]: the EOT row
            x = self.ln_final(x)
            return torch.matmul(x, self.text_projection)

    return ImageEncoder, TextEncoder


def build_encoders(sd: dict[str, Any], lay: ClipLayout):
    """(ImageEncoder, TextEncoder) in float32 eval mode holding the weights of ``sd``."""
    import torch

    ImageEncoder, TextEncoder = _modules()
    image, text = ImageEncoder(lay), TextEncoder(lay)
    for enc in (image, text):
        own = enc.state_dict()
        enc.load_state_dict({k: torch.as_tensor(sd[k]).detach().float().clone() for k in own}, strict=True)
        enc.eval()
    return image, text


# --------------------------------------------------------------------------------------
# ONNX export
# --------------------------------------------------------------------------------------


def materialize_aliases(m) -> list[str]:
    """torch.onnx.export de-duplicates initializers with equal values (all-ones LayerNorm
    weights, zero biases) and names the copies through ``Identity`` nodes; put every such name
    back as a real initializer and drop the Identity, so that each state-dict tensor is an
    initializer under its own name. Returns the names restored."""
    inits = {i.name: i for i in m.graph.initializer}
    restored = []
    keep = []
    for node in m.graph.node:
        if node.op_type == "Identity" and len(node.input) == 1 and node.input[0] in inits and node.output[0] not in inits:
            t = type(inits[node.input[0]])()
            t.CopyFrom(inits[node.input[0]])
            t.name = node.output[0]
            m.graph.initializer.append(t)
            inits[t.name] = t
            restored.append(t.name)
        else:
            keep.append(node)
    if restored:
        del m.graph.node[:]
        m.graph.node.extend(keep)
    return restored


def set_metadata(path: Path, heads: int, model: str) -> None:
    """Write the contract's metadata_props into an ONNX file (replacing earlier values), after
    restoring de-duplicated initializers (see materialize_aliases)."""
    import onnx

    m = onnx.load(str(path))
    materialize_aliases(m)
    props = {p.key: p.value for p in m.metadata_props}
    props.update({META_FORMAT: FORMAT, META_HEADS: str(heads), META_MODEL: model})
    del m.metadata_props[:]
    for k, v in props.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, str(path))


def export_onnx(sd: dict[str, Any], lay: ClipLayout, out_dir: Path, model_desc: str, prefix: str = "clip") -> dict[str, Path]:
    """Export ``<prefix>-image.onnx`` and ``<prefix>-text.onnx`` into ``out_dir``."""
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    image, text = build_encoders(sd, lay)
    paths = {"image": out_dir / f"{prefix}-image.onnx", "text": out_dir / f"{prefix}-text.onnx"}
    with torch.no_grad():
        torch.onnx.export(
            image,
            (torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE),),
            str(paths["image"]),
            input_names=["pixels"],
            output_names=["image_embeds"],
            dynamic_axes={"pixels": {0: "N"}, "image_embeds": {0: "N"}},
            opset_version=OPSET,
            do_constant_folding=False,
            dynamo=False,
        )
        tok = torch.zeros(1, CONTEXT, dtype=torch.int64)
        tok[0, 0], tok[0, 1] = SOT, EOT
        torch.onnx.export(
            text,
            (tok,),
            str(paths["text"]),
            input_names=["tokens"],
            output_names=["text_embeds"],
            dynamic_axes={"tokens": {0: "N"}, "text_embeds": {0: "N"}},
            opset_version=OPSET,
            do_constant_folding=False,
            dynamo=False,
        )
    set_metadata(paths["image"], lay.vision_heads, model_desc)
    set_metadata(paths["text"], lay.text_heads, model_desc)
    return paths


def check_onnx(path: Path, sd: dict[str, Any], lay: ClipLayout, side: str) -> dict[str, Any]:
    """Check an exported file against the contract: input / output names, initializer names
    and shapes (equal to the state dict's values), metadata; return its op types."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    g = m.graph
    want_in, want_out = ("pixels", "image_embeds") if side == "image" else ("tokens", "text_embeds")
    if [i.name for i in g.input] != [want_in] or [o.name for o in g.output] != [want_out]:
        raise ClipExportError(f"{path.name}: inputs {[i.name for i in g.input]}, outputs {[o.name for o in g.output]}")
    shapes = {k: v for k, v in expected_shapes(lay).items() if k.startswith("visual.") == (side == "image")}
    inits = {i.name: i for i in g.initializer}
    for k, shape in shapes.items():
        if k not in inits:
            raise ClipExportError(f"{path.name}: initializer {k!r} missing")
        arr = numpy_helper.to_array(inits[k])
        if tuple(arr.shape) != shape or arr.dtype != np.float32:
            raise ClipExportError(f"{path.name}: {k} is {arr.dtype}{arr.shape}, expected float32{shape}")
        src = np.asarray(_to_numpy(sd[k]), dtype=np.float32)
        if not np.array_equal(arr, src):
            raise ClipExportError(f"{path.name}: {k} differs from the source weights")
    extra = sorted(set(inits) - set(shapes))
    props = {p.key: p.value for p in m.metadata_props}
    heads = lay.vision_heads if side == "image" else lay.text_heads
    if props.get(META_FORMAT) != FORMAT or props.get(META_HEADS) != str(heads) or not props.get(META_MODEL):
        raise ClipExportError(f"{path.name}: metadata {props}")
    ops = sorted({n.op_type for n in g.node})
    return {"ops": ops, "nodes": len(g.node), "extra_initializers": extra, "metadata": props}


def _to_numpy(t) -> np.ndarray:
    import torch

    if isinstance(t, torch.Tensor):
        return t.detach().float().cpu().numpy()
    return np.asarray(t)


# --------------------------------------------------------------------------------------
# Reference model (open_clip) and verification
# --------------------------------------------------------------------------------------


def open_clip_model(sd: dict[str, Any], lay: ClipLayout):
    """open_clip's ``CLIP`` (QuickGELU) holding the weights of ``sd``, float32 eval mode."""
    import torch
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    vision = CLIPVisionCfg(
        layers=lay.vision_layers,
        width=lay.vision_width,
        head_width=lay.vision_width // lay.vision_heads,
        patch_size=PATCH,
        image_size=IMAGE_SIZE,
    )
    text = CLIPTextCfg(
        context_length=CONTEXT, vocab_size=lay.vocab, width=lay.text_width, heads=lay.text_heads, layers=lay.text_layers
    )
    model = CLIP(lay.embed_dim, vision_cfg=vision, text_cfg=text, quick_gelu=True)
    own = model.state_dict()
    load = {k: torch.as_tensor(sd[k]).float() for k in own if k in sd}
    if "logit_scale" not in load:
        load["logit_scale"] = torch.tensor(math.log(1 / 0.07))
    missing = set(own) - set(load)
    if missing:
        raise ClipExportError(f"open_clip CLIP needs tensors the source lacks: {sorted(missing)[:6]}")
    model.load_state_dict(load, strict=True)
    return model.eval()


def random_tokens(n: int, vocab: int, seed: int) -> np.ndarray:
    """n token rows [n, 77]: SOT, random ids below SOT, EOT, zero padding; varied lengths
    (one row fills the whole context, one has EOT right after SOT)."""
    rng = np.random.default_rng(seed)
    rows = np.zeros((n, CONTEXT), np.int64)
    for r in range(n):
        length = [CONTEXT - 2, 0][r] if r < 2 else int(rng.integers(1, CONTEXT - 1))
        rows[r, 0] = SOT
        rows[r, 1 : 1 + length] = rng.integers(1, min(vocab, SOT), length)
        rows[r, 1 + length] = EOT
    return rows


def verify(paths: dict[str, Path], sd: dict[str, Any], lay: ClipLayout, seed: int = 0, n: int = 4) -> dict[str, float]:
    """Max abs difference between onnxruntime on the exported files and open_clip (PyTorch)
    on random pixels (N(0,1), the scale of normalised images) and random token rows; also the
    export modules against open_clip."""
    import onnxruntime as ort
    import torch

    ref = open_clip_model(sd, lay)
    image, text = build_encoders(sd, lay)
    rng = np.random.default_rng(seed)
    pixels = rng.standard_normal((n, 3, IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)
    tokens = random_tokens(n, lay.vocab, seed + 1)
    with torch.no_grad():
        ref_img = ref.encode_image(torch.from_numpy(pixels)).numpy()
        ref_txt = ref.encode_text(torch.from_numpy(tokens)).numpy()
        own_img = image(torch.from_numpy(pixels)).numpy()
        own_txt = text(torch.from_numpy(tokens)).numpy()
    so = ort.SessionOptions()
    so.log_severity_level = 3
    si = ort.InferenceSession(str(paths["image"]), so, providers=["CPUExecutionProvider"])
    st = ort.InferenceSession(str(paths["text"]), so, providers=["CPUExecutionProvider"])
    ort_img = si.run(["image_embeds"], {"pixels": pixels})[0]
    ort_txt = st.run(["text_embeds"], {"tokens": tokens})[0]
    # a batch of one must give the same rows (the batch axis is dynamic)
    one_img = si.run(["image_embeds"], {"pixels": pixels[1:2]})[0]
    one_txt = st.run(["text_embeds"], {"tokens": tokens[1:2]})[0]
    return {
        "image_onnx_vs_open_clip": float(np.abs(ort_img - ref_img).max()),
        "text_onnx_vs_open_clip": float(np.abs(ort_txt - ref_txt).max()),
        "image_module_vs_open_clip": float(np.abs(own_img - ref_img).max()),
        "text_module_vs_open_clip": float(np.abs(own_txt - ref_txt).max()),
        "image_batch1_vs_batch": float(np.abs(one_img - ort_img[1:2]).max()),
        "text_batch1_vs_batch": float(np.abs(one_txt - ort_txt[1:2]).max()),
        "image_embed_scale": float(np.abs(ref_img).max()),
        "text_embed_scale": float(np.abs(ref_txt).max()),
    }


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------

# Hugging Face CLIPModel names -> OpenAI names (per block: see hf_block_map)
HF_TOP = {
    "text_model.embeddings.token_embedding.weight": "token_embedding.weight",
    "text_model.embeddings.position_embedding.weight": "positional_embedding",
    "text_model.final_layer_norm.weight": "ln_final.weight",
    "text_model.final_layer_norm.bias": "ln_final.bias",
    "vision_model.embeddings.class_embedding": "visual.class_embedding",
    "vision_model.embeddings.patch_embedding.weight": "visual.conv1.weight",
    "vision_model.embeddings.position_embedding.weight": "visual.positional_embedding",
    "vision_model.pre_layrnorm.weight": "visual.ln_pre.weight",  # sic: HF's spelling
    "vision_model.pre_layrnorm.bias": "visual.ln_pre.bias",
    "vision_model.post_layernorm.weight": "visual.ln_post.weight",
    "vision_model.post_layernorm.bias": "visual.ln_post.bias",
    "logit_scale": "logit_scale",
}
HF_TRANSPOSED = {"text_projection.weight": "text_projection", "visual_projection.weight": "visual.proj"}
HF_BLOCK = {
    "layer_norm1": "ln_1",
    "layer_norm2": "ln_2",
    "self_attn.out_proj": "attn.out_proj",
    "mlp.fc1": "mlp.c_fc",
    "mlp.fc2": "mlp.c_proj",
}
HF_TOWERS = {"vision_model.encoder.layers.": "visual.transformer.resblocks.", "text_model.encoder.layers.": "transformer.resblocks."}
HF_IGNORED = ("text_model.embeddings.position_ids", "vision_model.embeddings.position_ids")


def hf_to_openai(hf: dict[str, Any]) -> dict[str, Any]:
    """Map a Hugging Face ``CLIPModel`` state dict to OpenAI names (q, k, v concatenated in
    that order into ``in_proj_*``; the projections transposed from [E, W] to [W, E])."""
    import torch

    out: dict[str, Any] = {}
    qkv: dict[str, dict[str, Any]] = {}
    unknown = []
    for k, v in hf.items():
        if k in HF_IGNORED:
            continue
        if k in HF_TOP:
            out[HF_TOP[k]] = v
            continue
        if k in HF_TRANSPOSED:
            out[HF_TRANSPOSED[k]] = torch.as_tensor(v).t().contiguous()
            continue
        for hp, op in HF_TOWERS.items():
            if k.startswith(hp):
                i, rest = k[len(hp) :].split(".", 1)
                name, kind = rest.rsplit(".", 1)  # e.g. ("self_attn.q_proj", "weight")
                if name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
                    qkv.setdefault(f"{op}{i}.attn.in_proj_{kind}", {})[name[-6]] = v
                elif name in HF_BLOCK:
                    out[f"{op}{i}.{HF_BLOCK[name]}.{kind}"] = v
                else:
                    unknown.append(k)
                break
        else:
            unknown.append(k)
    if unknown:
        raise ClipExportError(f"unexpected tensors in the Hugging Face checkpoint: {unknown[:8]}")
    for k, parts in qkv.items():
        if set(parts) != {"q", "k", "v"}:
            raise ClipExportError(f"{k}: q/k/v projections incomplete ({sorted(parts)})")
        out[k] = torch.cat([torch.as_tensor(parts[c]) for c in "qkv"], dim=0)
    return out


def _hf_tower_config(cfg: dict[str, Any], tower: str) -> dict[str, Any]:
    """``vision_config`` / ``text_config`` of an HF CLIP config.json (older files also carry
    ``*_config_dict``; keys left out there take the transformers defaults, which are OpenAI's)."""
    c = dict(cfg.get(f"{tower}_config_dict") or {})
    c.update(cfg.get(f"{tower}_config") or {})
    return c


def load_hf_folder(folder: Path) -> tuple[dict[str, Any], int | None, int | None, str]:
    """(OpenAI-layout state dict, vision heads, text heads, description) of an HF CLIP folder."""
    import torch

    cfg_path = folder / "config.json"
    if not cfg_path.exists():
        raise ClipExportError(f"{folder}: no config.json (not a Hugging Face model folder)")
    cfg = json.loads(cfg_path.read_text())
    if cfg.get("model_type") != "clip":
        raise ClipExportError(f"{folder}: model_type {cfg.get('model_type')!r}, expected 'clip' (CLIPModel)")
    vc, tc = _hf_tower_config(cfg, "vision"), _hf_tower_config(cfg, "text")
    for what, c in (("vision", vc), ("text", tc)):
        act = c.get("hidden_act", "quick_gelu")
        if act != "quick_gelu":
            raise ClipExportError(f"{what} tower uses {act!r}: the contract's blocks use QuickGELU (OpenAI CLIP)")
        eps = c.get("layer_norm_eps", LN_EPS)
        if abs(eps - LN_EPS) > 1e-12:
            raise ClipExportError(f"{what} LayerNorm eps {eps}: the contract uses {LN_EPS}")
    st = folder / "model.safetensors"
    bin_ = folder / "pytorch_model.bin"
    if st.exists():
        from safetensors.torch import load_file

        hf = load_file(str(st))
    elif bin_.exists():
        hf = torch.load(str(bin_), map_location="cpu", weights_only=True)
    else:
        raise ClipExportError(f"{folder}: neither model.safetensors nor pytorch_model.bin")
    sd = hf_to_openai(hf)
    vh, th = vc.get("num_attention_heads"), tc.get("num_attention_heads")
    name = cfg.get("_name_or_path") or folder.name
    return sd, (int(vh) if vh else None), (int(th) if th else None), f"{name} (Hugging Face)"


def load_state_dict_file(path: Path) -> dict[str, Any]:
    """OpenAI TorchScript archive, or a pickled state dict (optionally under "state_dict")."""
    import torch

    try:
        jit = torch.jit.load(str(path), map_location="cpu")
        return {k: v for k, v in jit.state_dict().items()}
    except Exception:  # noqa: BLE001 - not TorchScript: try a plain checkpoint
        pass
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        raise ClipExportError(f"{path}: neither a TorchScript archive nor a weights-only torch checkpoint ({e})") from e
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
        raise ClipExportError(f"{path}: not a state dict")
    if obj and all(k.startswith("module.") for k in obj):
        obj = {k[len("module.") :]: v for k, v in obj.items()}
    return obj


def load_open_clip_name(spec: str) -> tuple[dict[str, Any], int, int, str]:
    """``MODEL/TAG`` through open_clip (its cache); must be a QuickGELU ViT CLIP."""
    import open_clip
    from open_clip.model import CLIP

    name, _, tag = spec.partition("/")
    if name not in open_clip.list_models():
        raise ClipExportError(f"{name!r} is neither a file, a folder nor an open_clip model name")
    # the OpenAI tags of plain model names ("ViT-B-32/openai") were trained with QuickGELU:
    # open_clip only warns about the mismatch, so force it as its pretrained config says
    quick = bool(tag and open_clip.get_pretrained_cfg(name, tag).get("quick_gelu", False))
    try:
        model = open_clip.create_model(name, pretrained=tag or None, device="cpu", precision="fp32", force_quick_gelu=quick)
    except Exception as e:  # noqa: BLE001
        raise ClipExportError(f"open_clip could not load {spec!r} (weights not cached, no network?): {e}") from e
    if type(model) is not CLIP:
        raise ClipExportError(f"{spec}: open_clip {type(model).__name__}, not a plain CLIP (ViT + text transformer)")
    v = model.visual
    if type(v).__name__ != "VisionTransformer":
        raise ClipExportError(f"{spec}: vision tower {type(v).__name__}: only ViT CLIP models are supported")
    for tower, what in ((v.transformer, "vision"), (model.transformer, "text")):
        act = type(tower.resblocks[0].mlp.gelu).__name__
        if act != "QuickGELU":
            raise ClipExportError(f"{spec}: {what} MLP activation {act}; the contract needs QuickGELU (OpenAI-trained weights)")
    if getattr(v, "pool_type", "tok") != "tok" or getattr(v, "attn_pool", None) is not None:
        raise ClipExportError(f"{spec}: vision pooling is not the class token")
    if getattr(model, "text_pool_type", "argmax") != "argmax":
        raise ClipExportError(f"{spec}: text pooling {model.text_pool_type!r}, the contract pools at the EOT (argmax)")
    vh = model.visual.transformer.resblocks[0].attn.num_heads
    th = model.transformer.resblocks[0].attn.num_heads
    sd = {k: v_.detach().float() for k, v_ in model.state_dict().items()}
    return sd, int(vh), int(th), f"{name} {tag}".strip()


def load_source(source: str) -> tuple[dict[str, Any], int | None, int | None, str]:
    """(state dict, vision heads or None, text heads or None, description) of any source."""
    p = Path(source)
    if p.is_dir():
        return load_hf_folder(p)
    if p.is_file():
        sd = load_state_dict_file(p)
        return sd, None, None, f"{p.stem} openai"
    name = source.split("/")[0]
    if source.count("/") <= 1 and name and name.replace("-", "").replace("_", "").replace("@", "").isalnum():
        return load_open_clip_name(source)
    raise ClipExportError(f"{source}: no such file or folder")


def find_bpe(explicit: str | None) -> tuple[bytes, str]:
    """The bytes of ``bpe_simple_vocab_16e6.txt.gz`` and where they came from: --bpe, then
    the copy shipped with open_clip, then the one of OpenAI's ``clip`` package."""
    if explicit:
        return Path(explicit).read_bytes(), explicit
    for mod in ("open_clip", "clip"):
        try:
            m = __import__(mod)
        except ImportError:
            continue
        f = Path(m.__file__).parent / BPE_NAME
        if f.exists():
            return f.read_bytes(), str(f)
    raise ClipExportError(f"{BPE_NAME} not found: install open_clip_torch or pass --bpe PATH")


def check_bpe(data: bytes, hf_folder: Path | None) -> int:
    """Check the vocabulary file (gzip, CLIP header, the merges CLIP uses) and, for an HF
    source, that its merges.txt holds the same merges; return the number of lines."""
    text = gzip.decompress(data).decode("utf-8")
    lines = text.split("\n")
    if not lines[0].startswith('"bpe_simple_vocab_16e6.txt#version'):
        raise ClipExportError(f"the BPE file does not start with CLIP's header: {lines[0][:60]!r}")
    used = lines[1 : 49152 - 256 - 2 + 1]  # the merges CLIP's tokenizer reads
    if len(used) != 48894 or not all(len(m.split(" ")) == 2 for m in used):
        raise ClipExportError("the BPE file does not hold CLIP's 48894 merges")
    if hf_folder is not None and (hf_folder / "merges.txt").exists():
        hf_lines = (hf_folder / "merges.txt").read_text(encoding="utf-8").split("\n")
        hf_used = [l for l in hf_lines[1:] if l]
        if hf_used[: len(used)] != used[: len(hf_used)]:
            raise ClipExportError("merges.txt of the Hugging Face folder differs from CLIP's BPE merges")
    return len(lines)


# --------------------------------------------------------------------------------------
# Self-test (on demand, not in CI: full-size random ViT-B/32, ~1.5 GB written, ~2.5 GB with transformers)
# --------------------------------------------------------------------------------------


def openai_to_hf(sd: dict[str, Any]) -> dict[str, Any]:
    """Inverse of hf_to_openai (for the self-test: transformers is not needed)."""
    import torch

    top = {v: k for k, v in HF_TOP.items()}
    tr = {v: k for k, v in HF_TRANSPOSED.items()}
    blk = {v: k for k, v in HF_BLOCK.items()}
    out: dict[str, Any] = {}
    for k, v in sd.items():
        v = torch.as_tensor(v).float()
        if k in top:
            out[top[k]] = v
        elif k in tr:
            out[tr[k]] = v.t().contiguous()
        elif k in IGNORED_KEYS:
            continue
        else:
            for hp, op in HF_TOWERS.items():
                if k.startswith(op):
                    i, rest = k[len(op) :].split(".", 1)
                    name, kind = rest.rsplit(".", 1)
                    if name == "attn" and kind in ("in_proj_weight", "in_proj_bias"):
                        for c, part in zip("qkv", v.chunk(3, dim=0)):
                            out[f"{hp}{i}.self_attn.{c}_proj.{kind[len('in_proj_'):]}"] = part.contiguous()
                    else:
                        out[f"{hp}{i}.{blk[name]}.{kind}"] = v
                    break
            else:
                raise KeyError(k)
    return out


def _expect_refusal(what: str, fn) -> str:
    try:
        fn()
    except ClipExportError as e:
        print(f"  refused as expected ({what}): {e}")
        return str(e)
    raise AssertionError(f"{what}: not refused")


def hf_transformers_check(work: Path, seed: int = 0, tolerance: float = 1e-4) -> dict[str, float]:
    """Convert a real ``transformers.CLIPModel`` (seeded random, openai/clip-vit-base-patch32's
    config, LayerNorms and biases moved away from their init so that no mapping mistake hides)
    saved with ``save_pretrained``, and compare onnxruntime on the exported files with the
    model's own ``get_image_features`` / ``get_text_features``: token rows padded with 0 (CLIP's
    tokenizer) and with 49407 (HF's ``CLIPTokenizer``), without and with an attention mask, and
    with both pooling rules of transformers (``eos_token_id`` 49407: first EOT; the hub config's
    legacy ``eos_token_id`` 2: argmax of the ids). A ``pytorch_model.bin`` copy (with the
    ``position_ids`` buffers older files hold) must load to the same tensors. Needs transformers."""
    import onnxruntime as ort
    import torch
    from transformers import CLIPConfig, CLIPModel

    text_cfg = dict(
        hidden_size=512, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=8, max_position_embeddings=77,
        vocab_size=49408, bos_token_id=SOT, eos_token_id=EOT, pad_token_id=1, projection_dim=512,
        hidden_act="quick_gelu", layer_norm_eps=LN_EPS,
    )
    vision_cfg = dict(
        hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, patch_size=PATCH,
        image_size=IMAGE_SIZE, projection_dim=512, hidden_act="quick_gelu", layer_norm_eps=LN_EPS,
    )
    torch.manual_seed(seed)
    model = CLIPModel(CLIPConfig(text_config=text_cfg, vision_config=vision_cfg, projection_dim=512)).eval()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if "norm" in name or "layrnorm" in name:  # LayerNorms: init 1 / 0
                p.copy_(1.0 + 0.2 * noise if name.endswith("weight") else 0.1 * noise)
            elif name.endswith("bias"):  # init 0
                p.add_(0.05 * noise)
            elif name.endswith("class_embedding"):
                p.add_(0.5 * noise)
            elif "position_embedding" in name:
                p.add_(0.02 * noise)
    hf_dir = work / "hf-transformers"
    model.save_pretrained(str(hf_dir))  # config.json + model.safetensors
    if not (hf_dir / "model.safetensors").exists():
        raise AssertionError(f"save_pretrained wrote {sorted(x.name for x in hf_dir.iterdir())}, not model.safetensors")
    # pytorch_model.bin branch: same tensors as transformers 4.x wrote them (transformers 5 only
    # writes safetensors), with the position_ids buffers of older checkpoints
    bin_dir = work / "hf-transformers-bin"
    bin_dir.mkdir(exist_ok=True)
    hf_sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    hf_sd.setdefault("text_model.embeddings.position_ids", torch.arange(CONTEXT).unsqueeze(0))
    hf_sd.setdefault("vision_model.embeddings.position_ids", torch.arange(POSITIONS).unsqueeze(0))
    torch.save(hf_sd, bin_dir / "pytorch_model.bin")
    (bin_dir / "config.json").write_bytes((hf_dir / "config.json").read_bytes())
    sd_st, sd_bin = load_hf_folder(hf_dir)[0], load_hf_folder(bin_dir)[0]
    assert sd_st.keys() == sd_bin.keys() and all(torch.equal(sd_st[k], sd_bin[k]) for k in sd_st), "bin != safetensors"
    (bin_dir / "pytorch_model.bin").unlink()

    out = work / "out-hf_transformers"
    rc = convert(str(hf_dir), out, tolerance=1e-3)
    assert rc == 0, f"hf_transformers: convert returned {rc}"

    def features(o):  # transformers 5 returns an output object, 4.x a tensor
        return (o.pooler_output if hasattr(o, "pooler_output") else o).detach().float().numpy()

    rng = np.random.default_rng(seed + 2)
    pixels = rng.standard_normal((4, 3, IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)
    tok0 = random_tokens(4, 49408, seed + 3)
    eot_at = np.argmax(tok0 == EOT, axis=1)
    after = np.arange(CONTEXT)[None, :] > eot_at[:, None]
    tok_pad_eot = np.where(after, EOT, tok0)  # HF CLIPTokenizer pads with <|endoftext|>
    mask = (~after).astype(np.int64)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    si = ort.InferenceSession(str(out / "clip-image.onnx"), so, providers=["CPUExecutionProvider"])
    st = ort.InferenceSession(str(out / "clip-text.onnx"), so, providers=["CPUExecutionProvider"])
    d: dict[str, float] = {}
    with torch.no_grad():
        ref = features(model.get_image_features(pixel_values=torch.from_numpy(pixels)))
        d["image"] = float(np.abs(si.run(["image_embeds"], {"pixels": pixels})[0] - ref).max())
        tm = getattr(model, "text_model", None)
        rules = [("eos 49407", EOT)] + ([("eos 2 (argmax)", 2)] if hasattr(tm, "eos_token_id") else [])
        for rule, eos in rules:
            if hasattr(tm, "eos_token_id"):
                tm.eos_token_id = eos
            for pad, toks in (("pad 0", tok0), ("pad 49407", tok_pad_eot)):
                got = st.run(["text_embeds"], {"tokens": toks})[0]
                for m_name, m in (("", None), (" +mask", mask)):
                    kw = {"attention_mask": torch.from_numpy(m)} if m is not None else {}
                    ref = features(model.get_text_features(input_ids=torch.from_numpy(toks), **kw))
                    d[f"text {rule}, {pad}{m_name}"] = float(np.abs(got - ref).max())
    for k, v in d.items():
        print(f"  onnxruntime vs transformers {k}: max abs diff {v:.2e}")
    worst = max(d.values())
    assert worst <= tolerance, f"onnxruntime vs transformers: {worst:.2e} > {tolerance}"
    return d


def self_test(work: Path, seed: int = 0) -> int:
    """Convert a seeded random full-size open_clip ViT-B-32 (QuickGELU) given as a plain
    state dict, a TorchScript archive in fp16 (as OpenAI's ViT-B-32.pt), an HF-layout folder
    (made with openai_to_hf, not with transformers) and an open_clip model name; check that
    all give the same initializers, and that non-ViT / non-B/32 / GELU sources are refused.
    When transformers is importable, also convert a real ``CLIPModel`` checkpoint and compare
    with transformers' own outputs (hf_transformers_check); skipped otherwise."""
    import onnx
    import open_clip
    import torch
    from onnx import numpy_helper

    work.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None).eval()
    sd = {k: v.detach().float().clone() for k, v in model.state_dict().items()}

    # 1. plain state dict
    torch.save(sd, work / "state_dict.pt")
    # 2. TorchScript archive with fp16 weights and OpenAI's extra entries
    class Holder(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            for k, v in m.named_children():
                self.add_module(k, v)
            for k, v in m.named_parameters(recurse=False):
                self.register_parameter(k, v)
            self.register_buffer("input_resolution", torch.tensor(IMAGE_SIZE))
            self.register_buffer("context_length", torch.tensor(CONTEXT))
            self.register_buffer("vocab_size", torch.tensor(m.vocab_size))

        def forward(self, x):
            return self.visual(x)

    half = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None).eval()
    half.load_state_dict(sd)
    half = half.half()
    jit = torch.jit.trace(Holder(half).eval(), torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.float16), check_trace=False)
    torch.jit.save(jit, str(work / "ViT-B-32-fp16-jit.pt"))
    sd_half = {k: v.half().float() for k, v in sd.items()}
    # 3. HF folder
    from safetensors.torch import save_file

    hf_dir = work / "hf-clip"
    hf_dir.mkdir(exist_ok=True)
    save_file(openai_to_hf(sd), str(hf_dir / "model.safetensors"))
    cfg = {
        "model_type": "clip",
        "projection_dim": 512,
        "text_config": {"hidden_size": 512, "num_attention_heads": 8, "num_hidden_layers": 12, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5},
        "vision_config": {"hidden_size": 768, "num_attention_heads": 12, "num_hidden_layers": 12, "patch_size": 32, "image_size": 224, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5},
    }
    (hf_dir / "config.json").write_text(json.dumps(cfg))
    bpe_bytes, _ = find_bpe(None)
    merges = gzip.decompress(bpe_bytes).decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
    (hf_dir / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")

    results = {}
    for tag, src, ref_sd in (
        ("state_dict", str(work / "state_dict.pt"), sd),
        ("torchscript_fp16", str(work / "ViT-B-32-fp16-jit.pt"), sd_half),
        ("hf_folder", str(hf_dir), sd),
        ("open_clip_name", "ViT-B-32-quickgelu", sd),
    ):
        print(f"== {tag}: {src}")
        out = work / f"out-{tag}"
        if tag == "open_clip_name":
            torch.manual_seed(seed)  # the same random weights through open_clip's factory
        rc = convert(src, out, tolerance=1e-3)
        assert rc == 0, f"{tag}: convert returned {rc}"
        results[tag] = out
        if ref_sd is not None:
            for side in ("image", "text"):
                m = onnx.load(str(out / f"clip-{side}.onnx"))
                for init in m.graph.initializer:
                    if init.name in ref_sd:
                        assert np.array_equal(numpy_helper.to_array(init), ref_sd[init.name].numpy()), (tag, init.name)
        assert (out / "clip-bpe.txt.gz").read_bytes() == bpe_bytes
    try:
        import transformers
    except ImportError:
        print("== hf_transformers: skipped (transformers not installed)")
    else:
        print(f"== hf_transformers: a transformers {transformers.__version__} CLIPModel saved with save_pretrained")
        hf_transformers_check(work, seed)
    print("== refusals")
    rn = open_clip.create_model("RN50", pretrained=None).state_dict()
    torch.save(rn, work / "rn50.pt")
    _expect_refusal("RN50 state dict", lambda: convert(str(work / "rn50.pt"), work / "out-bad", verify_outputs=False))
    b16 = open_clip.create_model("ViT-B-16", pretrained=None).state_dict()
    torch.save(b16, work / "b16.pt")
    _expect_refusal("ViT-B-16 state dict", lambda: convert(str(work / "b16.pt"), work / "out-bad", verify_outputs=False))
    _expect_refusal("GELU open_clip model", lambda: convert("ViT-B-32", work / "out-bad", verify_outputs=False))
    torch.save({"weight": torch.zeros(3)}, work / "other.pt")
    _expect_refusal("unrelated state dict", lambda: convert(str(work / "other.pt"), work / "out-bad", verify_outputs=False))
    cfg["text_config"]["hidden_act"] = "gelu"
    bad_hf = work / "hf-gelu"
    bad_hf.mkdir(exist_ok=True)
    (bad_hf / "config.json").write_text(json.dumps(cfg))
    _expect_refusal("HF config with GELU", lambda: convert(str(bad_hf), work / "out-bad", verify_outputs=False))
    _expect_refusal("missing source", lambda: convert(str(work / "nothing-here.pt"), work / "out-bad", verify_outputs=False))
    print("self-test passed")
    return 0


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def to_float16(src: Path, dst: Path) -> None:
    """Write ``src`` with float16 weights to ``dst`` (onnxruntime's float16 converter; the inputs and
    outputs keep their types): about half the download. fastsam-web widens the weights again and
    computes in float32 (docs/precision.md)."""
    import onnx
    from onnxruntime.transformers import float16

    onnx.save(float16.convert_float_to_float16(onnx.load(str(src)), keep_io_types=True), str(dst))


def to_q8(src: Path, dst: Path) -> int:
    """Write ``src`` with 8-bit weights to ``dst``: every float initializer of two or more
    dimensions and at least 1024 values (the convolution, the projections, the transformer's
    matrices, the token and position embeddings) as int8 with one scale per row (axis 0), restored
    by ``DequantizeLinear`` under its own name; LayerNorm weights, biases and the class embedding
    stay float32. About a quarter of the download; fastsam-web dequantizes at load and computes in
    float32. Returns the number of tensors quantized."""
    import onnx
    from onnx import numpy_helper

    import convert as fastsam_convert

    m = onnx.load(str(src))
    axes = {}
    for t in m.graph.initializer:
        if t.data_type == onnx.TensorProto.FLOAT and len(t.dims) >= 2 and numpy_helper.to_array(t).size >= 1024:
            axes[t.name] = 0
    fastsam_convert.quantize_initializers(m, axes)
    onnx.save(m, str(dst))
    return len(axes)


def convert(
    source: str,
    out: Path,
    *,
    vision_heads=None,
    text_heads=None,
    bpe=None,
    verify_outputs=True,
    tolerance=None,
    name=None,
    dtype="fp32",
) -> int:
    sd, vh, th, desc = load_source(source)
    lay = check_openai_layout(sd, vision_heads or vh, text_heads or th)
    print(f"source: {desc}\n  {lay.describe()}")
    bpe_bytes, bpe_from = find_bpe(bpe)
    n_lines = check_bpe(bpe_bytes, Path(source) if Path(source).is_dir() else None)
    paths = export_onnx(sd, lay, out, name or desc)
    (out / "clip-bpe.txt.gz").write_bytes(bpe_bytes)
    for side in ("image", "text"):
        info = check_onnx(paths[side], sd, lay, side)
        size = paths[side].stat().st_size
        print(f"{paths[side]}: {size / 1e6:.1f} MB, {info['nodes']} nodes, ops {', '.join(info['ops'])}")
        if info["extra_initializers"]:
            print(f"  initializers besides the state dict's: {info['extra_initializers']}")
    print(f"{out / 'clip-bpe.txt.gz'}: {len(bpe_bytes) / 1e6:.2f} MB ({n_lines} lines, copied from {bpe_from})")
    if verify_outputs:
        try:
            d = verify(paths, sd, lay)
        except ImportError as e:
            print(f"verification skipped ({e}): install open_clip_torch and onnxruntime")
            return 0
        print(
            "onnxruntime vs open_clip, max abs diff: image {image_onnx_vs_open_clip:.2e}, text {text_onnx_vs_open_clip:.2e} "
            "(embeddings up to {image_embed_scale:.3g} / {text_embed_scale:.3g}); batch of 1 vs batch: "
            "{image_batch1_vs_batch:.1e} / {text_batch1_vs_batch:.1e}".format(**d)
        )
        if tolerance is not None and max(d["image_onnx_vs_open_clip"], d["text_onnx_vs_open_clip"]) > tolerance:
            print(f"error: difference above --tolerance {tolerance}", file=sys.stderr)
            return 1
    if dtype != "fp32":  # after the check of the float32 graphs
        for side in ("image", "text"):
            (to_float16 if dtype == "fp16" else to_q8)(paths[side], paths[side])
            print(f"{paths[side]}: {dtype} weights, {paths[side].stat().st_size / 1e6:.1f} MB")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", nargs="?", help="ViT-B-32.pt / state-dict file, HF folder, or open_clip MODEL/TAG")
    ap.add_argument("--out", default=".", help="output folder (default: current folder)")
    ap.add_argument("--vision-heads", type=int, help="attention heads of the image tower (default: from the source, else width / 64)")
    ap.add_argument("--text-heads", type=int, help="attention heads of the text tower (default: from the source, else width / 64)")
    ap.add_argument("--bpe", help=f"path of {BPE_NAME} (default: the copy shipped with open_clip)")
    ap.add_argument("--name", help="fastsam_web.clip.model metadata (default: a description of the source)")
    ap.add_argument("--no-verify", action="store_true", help="skip the onnxruntime vs open_clip comparison")
    ap.add_argument("--tolerance", type=float, help="fail if the max abs difference exceeds this")
    ap.add_argument(
        "--dtype",
        choices=("fp32", "fp16", "q8"),
        default="fp32",
        help="weights as float32 (default), float16 (half the download) or 8-bit integers with a scale per"
        " row (a quarter); checked as float32 first",
    )
    ap.add_argument("--self-test", metavar="DIR", help="convert a random full-size ViT-B/32 in every source layout into DIR (~1.5 GB; ~2.5 GB and a check against transformers' CLIPModel when transformers is installed), check refusals")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test(Path(args.self_test))
    if not args.source:
        ap.error("a source is required (or --self-test DIR)")
    try:
        return convert(
            args.source,
            Path(args.out),
            vision_heads=args.vision_heads,
            text_heads=args.text_heads,
            bpe=args.bpe,
            verify_outputs=not args.no_verify,
            tolerance=args.tolerance,
            name=args.name,
            dtype=args.dtype,
        )
    except ClipExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
