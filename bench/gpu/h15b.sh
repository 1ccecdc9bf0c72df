#!/usr/bin/env bash
# Issue 15 points 3-5 on TensorRT (bench/gpu/README.md contract): MiniLM FP16 on uniform token ids,
# on [CLS]...[SEP]-pinned ids and on real text (HB_TOKENIZER), 4 samples each, with the headroom
# block (largest FP32 |x| as a share of 65504) and per-sample pass rates; then precision with its
# default holdout (4 samples: 3 searched, 1 held out) and default build cap. One line a step in
# $HB_R/h15b/summary.txt: name, rc, seconds, verdict, pass rate, worst normalized error, headroom.
# HB_CPU_DRYRUN=1: the same steps on ort:fp32 / ort:fp16-emulated with short sequences.
set -o pipefail
R=$HB_R/h15b; mkdir -p "$R"
START=$(date +%s); DL=${HB_DEADLINE:-240}
if [ "${HB_CPU_DRYRUN:-0}" = 1 ]; then
  B="--reference ort:fp32 --candidate ort:fp16-emulated"; L=16; CAP=4
else
  B="--reference trt:fp32 --candidate trt:fp16"; L=128; CAP=30
fi
JOPTS="-Xmx8g -Dhalfbisect.trt.cacheDir=$R/tcache"
left() { echo $(( START + DL - $(date +%s) - 5 )); }
IDS="input_ids:1x$L:int64:1000..21000"
REST="--input attention_mask:1x$L:int64:1 --input token_type_ids:1x$L:int64:0"
printf '%s\n' "the quick brown fox jumps over the lazy dog" \
  "TensorRT builds an engine from an ONNX model in half precision" \
  "a sentence embedding model maps text to a dense vector" \
  "layer normalization can overflow when activations are large" > "$R/sentences.txt"
summary() { # name rc seconds json
  local line="$1 rc=$2 ${3}s"
  if [ -f "$4" ]; then
    line="$line $(python3 - "$4" <<'PY' 2>/dev/null
import json, sys
j = json.load(open(sys.argv[1]))
s = j.get("samples") or {}
outs = s.get("outputs") or [{}]
h = (j.get("headroom") or {}).get("atRisk") or []
top = max(h, key=lambda a: a["shareOfMax"]) if h else None
srch = j.get("search") or {}
ho = srch.get("holdout")
print("verdict=%s pass=%s/%s worstErr=%s atRisk=%d maxShare=%s%s%s" % (
    j.get("verdict"), s.get("passed"), s.get("count"), outs[0].get("worstNormalizedError"), len(h),
    "%.3f@%s%s" % (top["shareOfMax"], top["tensor"], top["index"]) if top else "-",
    (" fp32Nodes=%d stop=%r" % (len(j.get("fp32Nodes") or []), srch.get("stopReason"))) if srch else "",
    (" holdout=%s/%s" % (ho["passed"], ho["count"])) if ho else ""))
PY
)"
  fi
  echo "$line" >> "$R/summary.txt"
}
step() { # name command args...
  local name=$1; shift; local t; t=$(left); [ "$t" -gt 10 ] || { echo "$name skipped (deadline)" >> "$R/summary.txt"; return; }
  local s; s=$(date +%s)
  timeout "$t" java $JOPTS -cp "$HB_CP" dev.halfbisect.cli.Main "$@" $B --quiet --json "$R/$name.json" > "$R/$name.log" 2>&1
  summary "$name" $? $(( $(date +%s) - s )) "$R/$name.json"
}
# HB_H15B_SKIP: steps measured by an earlier run (docs/PERFORMANCE.md has their lines)
skip() { case " ${HB_H15B_SKIP:-} " in *" $1 "*) echo "$1 skipped (measured earlier)" >> "$R/summary.txt"; return 0 ;; esac; return 1; }
skip uniform || step uniform layerwise "$HB_MINILM" --input "$IDS" $REST --samples 4
skip pinned || step pinned layerwise "$HB_MINILM" --input "$IDS,first=101,last=102" $REST --samples 4
skip text || step text layerwise "$HB_MINILM" --input "$IDS" --text "$R/sentences.txt" --tokenizer "$HB_TOKENIZER"
# precision over 4 [CLS]-led samples: 3 searched, 1 held out; the price block (issue 20) is on
step precision precision "$HB_MINILM" --input "$IDS,first=101,last=102" $REST --samples 4 --max-error 3e-3 \
  --max-builds $CAP --out "$R/precision"
# issue 20: perf with that plan beside FP32 and all-FP16 (GPU time per inference)
[ -f "$R/precision/plan.json" ] && step ml-perf perf "$HB_MINILM" --input "$IDS,first=101,last=102" $REST \
  --max-error 3e-3 --precisions "fp32,fp16,plan:$R/precision/plan.json" --md "$R/ml-perf.md"
cat "$R/summary.txt"
