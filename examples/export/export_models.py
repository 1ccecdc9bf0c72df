#!/usr/bin/env python3
"""Exports the model families halfbisect was built for, the way users produce their ONNX (issue 20).

Random initialisation only (no weights are downloaded): enough for operator coverage, FP16 range
behaviour of the architecture and speed. Every export has a dynamic batch axis, so
`halfbisect perf --batch 1,8,64` can re-batch it. For each model NAME it writes under --out:

  NAME/model.onnx    the export (torch.onnx.export, TorchScript exporter, opset --opset)
  NAME/inputs.npz    one input batch, arrays named like the model inputs (halfbisect --load-inputs)
  NAME/export.json   the command, the library versions, the opset, inputs and op-type counts

Models: vit_b32_clip (timm vit_base_patch32_clip_224, the CLIP ViT-B/32 image tower), resnet50 and
swin_t (torchvision), unet_sr (a small UNet with reflect padding and a x2 pixel-shuffle head,
written here: the super-resolution and segmentation case), unet_sr_any (the same UNet with dynamic
height and width, for `halfbisect perf --shape`).

Usage: python3 export_models.py --out exports [--models vit_b32_clip,resnet50] [--opset 17]
"""

import argparse
import collections
import inspect
import json
import os
import platform
import sys
import time

import numpy as np
import torch
from torch import nn

MODELS = ("vit_b32_clip", "resnet50", "swin_t", "unet_sr", "unet_sr_any")


class ConvBlock(nn.Module):
    """Two 3x3 convolutions with reflect padding (Pad mode=reflect in ONNX), each + ReLU."""

    def __init__(self, cin, cout):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, padding_mode="reflect"),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, padding_mode="reflect"),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.body(x)


class UNetSR(nn.Module):
    """A small UNet (3 levels, skip concatenations) with a x2 super-resolution head."""

    def __init__(self, base=32, scale=2):
        super().__init__()
        self.enc1 = ConvBlock(3, base)
        self.enc2 = ConvBlock(base, base * 2)
        self.mid = ConvBlock(base * 2, base * 4)
        self.up2 = nn.ConvTranspose2d(base * 4, base * 2, 2, stride=2)
        self.dec2 = ConvBlock(base * 4, base * 2)
        self.up1 = nn.ConvTranspose2d(base * 2, base, 2, stride=2)
        self.dec1 = ConvBlock(base * 2, base)
        self.head = nn.Conv2d(base, 3 * scale * scale, 3, padding=1, padding_mode="reflect")
        self.shuffle = nn.PixelShuffle(scale)  # DepthToSpace in ONNX
        self.skip = nn.Upsample(scale_factor=scale, mode="bilinear", align_corners=False)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(nn.functional.max_pool2d(e1, 2))
        m = self.mid(nn.functional.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.shuffle(self.head(d1)) + self.skip(x)


def build(name):
    """(module, input name, input shape without batch) for one family, randomly initialised."""
    if name == "vit_b32_clip":
        import timm

        return timm.create_model("vit_base_patch32_clip_224", pretrained=False), "pixel_values", (3, 224, 224)
    if name == "resnet50":
        import torchvision

        return torchvision.models.resnet50(weights=None), "input", (3, 224, 224)
    if name == "swin_t":
        import torchvision

        return torchvision.models.swin_t(weights=None), "input", (3, 224, 224)
    if name in ("unet_sr", "unet_sr_any"):
        return UNetSR(), "lr_image", (3, 128, 128)
    raise SystemExit("unknown model %r; choose from %s" % (name, ", ".join(MODELS)))


def versions():
    v = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__}
    for mod in ("torchvision", "timm", "onnx", "onnxruntime"):
        try:
            v[mod] = __import__(mod).__version__
        except Exception:  # not installed: recorded as absent
            v[mod] = None
    return v


def op_counts(path):
    try:
        import onnx
    except ImportError:
        return None
    m = onnx.load(path, load_external_data=False)
    return dict(sorted(collections.Counter(n.op_type for n in m.graph.node).items()))


def dynamic_axes(name, input_name):
    """Batch is dynamic everywhere; unet_sr_any (the same UNet) takes any image size as well, for
    `perf --shape` at several sizes; the others keep their fixed spatial size."""
    if name == "unet_sr_any":
        return {input_name: {0: "batch", 2: "height", 3: "width"},
                "output": {0: "batch", 2: "out_height", 3: "out_width"}}
    return {input_name: {0: "batch"}, "output": {0: "batch"}}


def export(name, out_dir, opset, batch, seed):
    torch.manual_seed(seed)
    model, input_name, shape = build(name)
    model.eval()
    x = torch.randn((batch,) + tuple(shape), generator=torch.Generator().manual_seed(seed))
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.onnx")
    kwargs = dict(
        input_names=[input_name],
        output_names=["output"],
        opset_version=opset,
        dynamic_axes=dynamic_axes(name, input_name),
        do_constant_folding=True,
    )
    # torch >= 2.5 has the dynamo exporter (the default from 2.9); the TorchScript exporter is the
    # one that emits LayerNormalization (opset >= 17) and Gelu (opset >= 20) as single ops and
    # honours dynamic_axes, so it is asked for explicitly where the argument exists.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    t0 = time.time()
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, **kwargs)
    seconds = time.time() - t0
    np.savez(os.path.join(folder, "inputs.npz"), **{input_name: x.numpy()})
    meta = {
        "model": name,
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "versions": versions(),
        "opset": opset,
        "seed": seed,
        "inputs": {input_name: [batch] + list(shape)},
        "dynamicAxes": {k: {str(d): v for d, v in axes.items()}
                        for k, axes in dynamic_axes(name, input_name).items()},
        "parameters": sum(p.numel() for p in model.parameters()),
        "exportSeconds": round(seconds, 1),
        "bytes": os.path.getsize(path),
        "opTypes": op_counts(path),
    }
    with open(os.path.join(folder, "export.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print("%-13s %s (%d MB, %.1f s)" % (name, path, meta["bytes"] >> 20, seconds), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for NAME/model.onnx, inputs.npz, export.json")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated, default all")
    ap.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17; 20 for a fused Gelu)")
    ap.add_argument("--batch", type=int, default=1, help="batch of the saved inputs (default 1)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.opset < 17:
        raise SystemExit("--opset must be >= 17 (LayerNormalization arrives fused only from 17)")
    failed = []
    for name in [m.strip() for m in a.models.split(",") if m.strip()]:
        try:
            export(name, a.out, a.opset, a.batch, a.seed)
        except Exception as e:  # one family failing must not hide the others
            print("%-13s FAILED: %s: %s" % (name, type(e).__name__, e), file=sys.stderr, flush=True)
            failed.append(name)
    if failed:
        raise SystemExit("export failed for: " + ", ".join(failed))


if __name__ == "__main__":
    main()
