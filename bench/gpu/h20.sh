#!/usr/bin/env bash
# Issue 20 on the GPU machine: real PyTorch exports (examples/export/export_models.py: timm's
# vit_base_patch32_clip_224, torchvision's ResNet-50 and Swin-T, a reflect-padded UNet with a x2
# super-resolution head), then the perf tables with TensorRT (fp32, tf32, fp16 at batch 1 and 8:
# latency = GPU time per inference between CUDA events; the ViT table first, then the UNet's SR
# table, and the SR table over image sizes with --shape), and after the perf lane, compare,
# layerwise, bisect, amplify and a short precision search with its price on each export (MiniLM's
# plan price and perf with that plan: h15b.sh), the lanes one after another. Every step is
# skipped (and recorded) when the time left cannot hold it. Markdown
# tables for docs/examples.md go to $HB_R/h20/tables.md; one line per step in summary.txt (name,
# rc, seconds, key number), printed at the end.
#
# Contract: HB_CP class path of the halfbisect jars (cli main dev.halfbisect.cli.Main), HB_R
# results folder, HB_DEADLINE seconds (default 480), HB_MINILM (MiniLM model.onnx), HB_TSF (the
# planted TimeSformer). python3 with torch, timm, torchvision (onnx optional) makes the exports.
# HB_CPU_DRYRUN=1 runs the same steps on ONNX Runtime (ort:fp32 / ort:fp16-emulated, no tf32) with
# tiny budgets; without torch it falls back to the TimeSformer for the perf steps.
set -u -o pipefail
[ -f /opt/hb/env.sh ] && [ "${HB_CPU_DRYRUN:-0}" != 1 ] && source /opt/hb/env.sh
: "${HB_CP:?HB_CP must hold the halfbisect class path}" "${HB_R:?HB_R must name the results folder}"
DEADLINE=${HB_DEADLINE:-480}
START=$(date +%s)
R=$HB_R/h20; mkdir -p "$R"
SUMMARY=$R/summary.txt; : > "$SUMMARY"
TABLES=$R/tables.md; : > "$TABLES"
if [ "${HB_CPU_DRYRUN:-0}" = 1 ]; then
  REF=ort:fp32; CAND=ort:fp16-emulated; PRECS=fp32,fp16; BATCH=1,2; TIMING="--warmup 1 --runs 3"
  BUILDS=4
else
  REF=trt:fp32; CAND=trt:fp16; PRECS=fp32,tf32,fp16; BATCH=1,8; TIMING="--warmup 10 --runs 50"
  BUILDS=8
fi
TT="--reference $REF --candidate $CAND"
# info: the worker's "built ... in N ms" lines (a step cut by its limit leaves only its log)
JOPTS="-Xmx12g -Dhalfbisect.trt.cacheDir=$R/tcache -Dorg.slf4j.simpleLogger.defaultLogLevel=info"
# Big files (exports up to 336 MB, model-fp16.onnx of each plan) stay outside $HB_R, which is
# packed and sent back; only their export.json, plan.json and reports are copied into $R.
W=${HB_H20_WORK:-/tmp/h20-work}; mkdir -p "$W"
E=$W/exports

left() { echo $(( START + DEADLINE - $(date +%s) )); }
# a JSON string or number field (first occurrence), without jq
field() { tr -d '\n' < "$1" 2>/dev/null | grep -o "\"$2\" *: *[^,}]*" | head -1 | sed 's/^[^:]*: *//; s/"//g'; }
first_node() { tr -d '\n' < "$1" 2>/dev/null | grep -o '"firstFailing" *: *{[^}]*' | grep -o '"node" *: *"[^"]*"' \
               | head -1 | sed 's/.*: *"\(.*\)"$/\1/'; }
fp32_count() { tr -d '\n' < "$1" 2>/dev/null | grep -o '"fp32Nodes" *: *\[[^]]*\]' | head -1 | grep -o '"[^"]*"' \
               | tail -n +2 | wc -l | tr -d ' '; }
# speed-up of the last fp16 row of a perf document
fp16_speedup() { tr -d '\n ' < "$1" 2>/dev/null | grep -o '{"precision":"fp16","mode[^{]*{[^}]*}[^}]*' | tail -1 \
                 | grep -o '"speedup":[^,]*' | sed 's/.*://'; }
record() { echo "$1 rc=$2 $3s $4" | tee -a "$SUMMARY"; }
# step NAME KIND NEED -- CLI ARGS...: the CLI with at most the time left (minus a margin), --json
step() {
  local name=$1 kind=$2 need=$3; shift 4
  local tmo; tmo=$(( $(left) - 10 ))
  # HB_H20_STEP_CAP: the most one step may take, so that one slow build leaves the others time
  [ -n "${HB_H20_STEP_CAP:-}" ] && [ "$tmo" -gt "$HB_H20_STEP_CAP" ] && tmo=$HB_H20_STEP_CAP
  if [ "$tmo" -lt "$need" ]; then record "$name" skipped 0 "(only ${tmo}s left, needs ${need}s)"; return 0; fi
  local s=$(date +%s) rc key
  timeout "$tmo" java $JOPTS -cp "$HB_CP" dev.halfbisect.cli.Main "$@" --quiet --json "$R/$name.json" \
    > "$R/$name.log" 2>&1
  rc=$?
  case $kind in
    perf) key="fp16speedup=$(fp16_speedup "$R/$name.json") clock=$(field "$R/$name.json" clock | tr ' ' _)"
          ;;
    node) key="firstFailing=$(first_node "$R/$name.json")" ;;
    verdict) key="verdict=$(field "$R/$name.json" verdict) builds=$(field "$R/$name.json" builds)" ;;
    plan) key="verdict=$(field "$R/$name.json" verdict) fp32Nodes=$(fp32_count "$R/$name.json") keptShare=$(field "$R/$name.json" keptShare) planMs=$(field "$R/$name.json" planMs) fp16Ms=$(field "$R/$name.json" fp16Ms) fp32Ms=$(field "$R/$name.json" fp32Ms)" ;;
  esac
  record "$name" "$rc" $(( $(date +%s) - s )) "$key"
}

# 1. the exports (CPU, about a minute for all four)
tmo=$(( $(left) - 10 ))
s=$(date +%s)
# HB_H20_EXPORTS: only these exports (comma-separated; default all four)
timeout "$tmo" python3 examples/export/export_models.py --out "$E" ${HB_H20_EXPORTS:+--models "$HB_H20_EXPORTS"} \
  > "$R/export.log" 2>&1
record export $? $(( $(date +%s) - s )) "models=$(ls "$E"/*/model.onnx 2>/dev/null | wc -l | tr -d ' ')"
for f in "$E"/*/export.json; do
  [ -f "$f" ] && cp "$f" "$R/$(basename "$(dirname "$f")")-export.json"; done

have() { [ -f "$E/$1/model.onnx" ]; }
# copies a precision --out folder's small files (plan, flags, reports) into $R
keep() { mkdir -p "$R/$1"; cp "$W/$1"/*.json "$W/$1"/*.txt "$W/$1"/*.md "$R/$1/" 2>/dev/null; return 0; }
in_of() { echo "--load-inputs $E/$1/inputs.npz"; }

# HB_H20_SKIP: steps measured by an earlier run (their tables are in docs/examples.md).
skip() { case " ${HB_H20_SKIP:-} " in *" $1 "*) record "$1" skipped 0 "(measured earlier)"; return 0 ;; esac; return 1; }
# 2. the investigations' tables (perf lane), 3. the debugger on each export (two lanes): the three
# lanes run at once, their builds overlapping on the GPU and the cores.
perf_lane() {
  have vit_b32_clip && { skip vit-perf || step vit-perf perf 150 -- perf "$E/vit_b32_clip/model.onnx" \
    $(in_of vit_b32_clip) $TT --precisions $PRECS --batch $BATCH $TIMING --layout vit --md "$R/vit-perf.md"; }
  have unet_sr && { skip unet-perf || step unet-perf perf 60 -- perf "$E/unet_sr/model.onnx" $(in_of unet_sr) $TT \
    --precisions $PRECS --batch $BATCH $TIMING --layout sr --md "$R/unet-perf.md"; }
  have resnet50 && { skip resnet50-perf || step resnet50-perf perf 90 -- perf "$E/resnet50/model.onnx" \
    $(in_of resnet50) $TT --precisions $PRECS --batch $BATCH $TIMING --md "$R/resnet50-perf.md"; }
  have swin_t && { skip swin-perf || step swin-perf perf 90 -- perf "$E/swin_t/model.onnx" $(in_of swin_t) $TT \
    --precisions $PRECS --batch $BATCH $TIMING --md "$R/swin-perf.md"; }
  if have unet_sr_any; then
    # the SR table over image sizes (the UNet export with dynamic height and width)
    skip unet-shape-perf || step unet-shape-perf perf 60 -- perf "$E/unet_sr_any/model.onnx" $TT --precisions fp32,fp16 \
      --shape lr_image:1x3x128x128 --shape lr_image:1x3x256x256 --shape lr_image:1x3x512x512 --batch $BATCH \
      $TIMING --layout sr --md "$R/unet-shape-perf.md"
  fi
  if ! ls "$E"/*/model.onnx > /dev/null 2>&1 && [ -n "${HB_TSF:-}" ]; then
    # no exports (no torch here): prove the perf step on the planted TimeSformer at its own batch
    step tsf-perf perf 30 -- perf "$HB_TSF" --input video:8x3x32x32:float32:-1..1 $TT --precisions $PRECS \
      $TIMING --md "$R/tsf-perf.md"
  fi
  return 0
}
debug_lane() {
  local m
  for m in "$@"; do
    have $m || continue
    skip $m-compare || step $m-compare verdict 30 -- compare "$E/$m/model.onnx" $(in_of $m) $TT
    skip $m-layerwise || step $m-layerwise verdict 40 -- layerwise "$E/$m/model.onnx" $(in_of $m) $TT
    skip $m-bisect || step $m-bisect node 40 -- bisect "$E/$m/model.onnx" $(in_of $m) $TT
    skip $m-amplify || step $m-amplify verdict 40 -- amplify "$E/$m/model.onnx" $(in_of $m) $TT
    # the price block is on: three timed builds (FP32, all-FP16, the plan)
    skip $m-precision || step $m-precision plan 60 -- precision "$E/$m/model.onnx" $(in_of $m) $TT \
      --max-builds $BUILDS --out "$W/$m-plan"
    keep $m-plan
  done
  return 0
}
# One lane after another: TensorRT times its tactics on the GPU, and lanes building side by side
# on one GPU slowed every build several times over (bench/gpu/README.md, the second session).
# Swin-T's observed FP16 builds (layerwise, amplify) fail on TensorRT 10.6 (the sixth session of
# 2026-12-03): Myelin rejects the Slice a constant-mode Pad becomes ("incorrect fill value type,
# slice op requires fill value type to be same as its input") and then finds no implementation for
# the ForeignNode holding it. Unobserved builds pass. None of the export's 15 Pads has a
# constant_value (torch 2.11, checked on the dev machine), so the parser sets no fill input: the
# mismatch comes from the build. A marked output keeps its declared FP32 type, so a Pad whose output
# is observed reads FP16 and writes FP32. Two ways round it, each a layerwise run (and the second
# an amplify run too): the Pads pinned to FP32 (exact either way: a Pad only copies and fills
# zeros), and -Dhalfbisect.trt.observedAs=fp16 (observed tensors of FP16 layers marked FP16, so the
# Pad reads and writes FP16 as without the mark). HB_H20_PADS=1 runs them. On 2026-12-07 amplify
# with observedAs=fp16 failed on the same Pad Slice; the worker now retries such a build with the
# Slices in FP32 by itself (SliceFillRetry), so plain swin_t-layerwise / swin_t-amplify test that.
pad_lane() {
  have swin_t || return 0
  python3 - "$E/swin_t/model.onnx" "$W/swin-pads.json" > "$R/swin-pads.log" 2>&1 << 'PY'
import json, sys
import onnx
m = onnx.load(sys.argv[1], load_external_data=False)
pads = [n for n in m.graph.node if n.op_type == "Pad" and n.name]
json.dump({"schema": "halfbisect-plan/1", "defaultPrecision": "fp16", "ioPolicy": "keep_fp32",
           "fp32Nodes": [n.name for n in pads]}, open(sys.argv[2], "w"), indent=1)
valued = sum(1 for n in pads if len(n.input) >= 3 and n.input[2])
print(f"{len(pads)} Pad nodes, {valued} with a constant_value input")
PY
  record swin-pads $? 0 "$(tail -1 "$R/swin-pads.log")"
  JOPTS="$JOPTS -Dhalfbisect.trt.observedAs=fp16" step swin_t-layerwise-obs16 verdict 40 -- \
    layerwise "$E/swin_t/model.onnx" $(in_of swin_t) $TT
  JOPTS="$JOPTS -Dhalfbisect.trt.observedAs=fp16" step swin_t-amplify-obs16 verdict 40 -- \
    amplify "$E/swin_t/model.onnx" $(in_of swin_t) $TT
  step swin_t-layerwise-padfp32 verdict 40 -- layerwise "$E/swin_t/model.onnx" $(in_of swin_t) $TT \
    --plan "$W/swin-pads.json"
  # the same MiniLM layerwise with each observation type, for the per-tensor errors side by side
  # (is the FP16-typed one closer to the unobserved engine's output error?) before any default
  if [ -n "${HB_MINILM:-}" ] && [ -f "$HB_MINILM" ]; then
    local ml="--input input_ids:1x128:int64:1000..21000 --input attention_mask:1x128:int64:1"
    ml="$ml --input token_type_ids:1x128:int64:0"
    step minilm-layerwise-obs32 verdict 40 -- layerwise "$HB_MINILM" $ml $TT
    JOPTS="$JOPTS -Dhalfbisect.trt.observedAs=fp16" step minilm-layerwise-obs16 verdict 40 -- \
      layerwise "$HB_MINILM" $ml $TT
  fi
  return 0
}
# Swin-T's observed FP16 builds on weak typing fail in Myelin (above; the Slice retry did not help
# and is removed): HB_H20_STRONG=1 runs layerwise and amplify on a strongly typed candidate
# (trt:fp16-strong: the FP16 export's own types, no reformat at a marked output), then one weak
# layerwise with at most 64 tensors observed a build (23 built on 2026-12-07, 185 did not).
strong_lane() {
  have swin_t || return 0
  local st="--reference $REF --candidate trt:fp16-strong"
  [ "${HB_CPU_DRYRUN:-0}" = 1 ] && st="$TT"
  skip swin_t-layerwise-strong || step swin_t-layerwise-strong verdict 40 -- \
    layerwise "$E/swin_t/model.onnx" $(in_of swin_t) $st
  skip swin_t-amplify-strong || step swin_t-amplify-strong verdict 40 -- \
    amplify "$E/swin_t/model.onnx" $(in_of swin_t) $st
  return 0
}
# after the debug lane: the weak layerwise with a cap is the least likely of them to answer
obs64_step() {
  have swin_t || return 0
  skip swin_t-layerwise-obs64 || step swin_t-layerwise-obs64 verdict 40 -- \
    layerwise "$E/swin_t/model.onnx" $(in_of swin_t) $TT --observe-max 64
}
perf_lane
[ "${HB_H20_PADS:-0}" = 1 ] && pad_lane
[ "${HB_H20_STRONG:-0}" = 1 ] && strong_lane
debug_lane ${HB_H20_MODELS:-unet_sr resnet50 vit_b32_clip swin_t}
[ "${HB_H20_STRONG:-0}" = 1 ] && obs64_step
# tables in a fixed order (the lanes finish in any order)
: > "$TABLES"
for t in vit-perf unet-perf resnet50-perf swin-perf unet-shape-perf tsf-perf; do
  [ -f "$R/$t.md" ] && { echo "### $t"; cat "$R/$t.md"; echo; } >> "$TABLES"
done

echo "== h20 tables ($TABLES) =="; cat "$TABLES"
echo "== h20 summary =="; cat "$SUMMARY"
