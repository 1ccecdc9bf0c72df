#!/usr/bin/env bash
# Issue 15, point 7: does the FP16 emulation agree with TensorRT? For every model the project
# tests with (MiniLM, the planted TimeSformer, small demo examples, and three models built in code:
# a Conv-BN CNN with BN variance 9.79e7 in Constant nodes, a model whose output is ~0, a BERT-style
# masked softmax), run `compare` and `bisect` twice:
#   emulation side: ort:fp32 vs ort:fp16-emulated (CPU)       -> $HB_R/h15a/emulation.txt
#   TensorRT side:  trt:fp32 vs trt:fp16 (GPU)                -> $HB_R/h15a/tensorrt.txt
# and record verdict, max abs error of the outputs and the first failing node. The lead joins the
# two tables into docs/PERFORMANCE.md.
#
# Contract (see /work/briefs/common.md): HB_CP class path of the halfbisect jars (cli main class),
# HB_R results folder, HB_DEADLINE seconds, HB_MINILM MiniLM's model.onnx, HB_TSF the planted
# TimeSformer model.onnx. HB_CPU_DRYRUN=1 runs the TensorRT side on ort:* instead (no GPU).
# Run from the repository root (after `source /opt/hb/env.sh` on the GPU machine):
#   HB_CP=cli/target/halfbisect.jar HB_R=/tmp/r HB_DEADLINE=300 HB_CPU_DRYRUN=1 \
#     HB_TSF=/tmp/tsf/model.onnx HB_MINILM=/path/model.onnx bench/gpu/h15a.sh
set -uo pipefail
: "${HB_CP:?HB_CP must name the halfbisect jars}" "${HB_R:?HB_R must name the results folder}"
DEADLINE=${HB_DEADLINE:-300}
START=$(date +%s)
R=$HB_R/h15a; M=$R/models; mkdir -p "$R" "$M" "$R/emulation" "$R/tensorrt"
SUMMARY=$R/summary.txt; : > "$SUMMARY"
EXAMPLES=${HB_H15A_EXAMPLES:-unet cnn-transformer elan-sr}
JOPTS=(-Xmx6g "-Dhalfbisect.trt.cacheDir=$R/tcache")
# compiled main from the bench jar on HB_CP (the staged JRE has no jdk.compiler for the source launcher)
CP=$HB_CP   # run-all.sh already appends HB_TRT_JARS; a doubled class path crashes ONNX Runtime 1.29 (docs/PERFORMANCE.md)
if [ "${HB_CPU_DRYRUN:-0}" = 1 ]; then GPU_REF=ort:fp32; GPU_CAND=ort:fp16-emulated; else GPU_REF=trt:fp32; GPU_CAND=trt:fp16; fi

left() { echo $(( START + DEADLINE - 10 - $(date +%s) )); }
# step NAME SECONDS_CAP CMD...: run under timeout (at most the time left), log, one summary line
step() {
  local name=$1 cap=$2; shift 2
  local tmo; tmo=$(left); [ "$tmo" -gt "$cap" ] && tmo=$cap
  if [ "$tmo" -le 3 ]; then echo "$name rc=skipped 0s (deadline)" >> "$SUMMARY"; return 124; fi
  local s; s=$(date +%s)
  timeout "$tmo" "$@" > "$R/$name.log" 2>&1; local rc=$?
  echo "$name rc=$rc $(( $(date +%s) - s ))s" >> "$SUMMARY"
  return $rc
}
# commands as arrays: `timeout` runs programs, not shell functions
HB=(java "${JOPTS[@]}" -cp "$CP" dev.halfbisect.cli.Main)
AGREEMENT=(java -cp "$CP" dev.halfbisect.bench.agreement.AgreementModels)

step write-models 60 "${AGREEMENT[@]}" write "$M" $EXAMPLES || echo "model writer failed: see $R/write-models.log" >&2
# HB_H15A_REAL=0: the models built in code only (TimeSformer and MiniLM were measured earlier)
REAL=${HB_H15A_REAL:-1}
[ "$REAL" = 1 ] && [ -n "${HB_TSF:-}" ] && [ -f "$HB_TSF" ] && printf 'timesformer\t%s\t--input video:8x3x32x32:float32:-1..1\n' "$HB_TSF" >> "$M/models.tsv"
[ "$REAL" = 1 ] && [ -n "${HB_MINILM:-}" ] && [ -f "$HB_MINILM" ] && printf 'minilm\t%s\t--input input_ids:1x128:int64:1000..21000 --input attention_mask:1x128:int64:1 --input token_type_ids:1x128:int64:0\n' "$HB_MINILM" >> "$M/models.tsv"
# HB_H15A_ONLY: the model names to run (the others were measured by an earlier run)
if [ -n "${HB_H15A_ONLY:-}" ]; then
  awk -F'\t' -v keep=" $HB_H15A_ONLY " 'index(keep, " " $1 " ")' "$M/models.tsv" > "$M/models.only" && mv "$M/models.only" "$M/models.tsv"
fi
cp "$M/models.tsv" "$R/emulation/models.tsv" 2>/dev/null; cp "$M/models.tsv" "$R/tensorrt/models.tsv" 2>/dev/null

# side DIR REF CAND CAP: compare + bisect of every model, sequentially
side() {
  local dir=$1 ref=$2 cand=$3 cap=$4
  while IFS=$'\t' read -r name path inputs; do
    # shellcheck disable=SC2086 # inputs is a list of options
    step "$(basename "$dir")-$name-compare" "$cap" "${HB[@]}" compare "$path" $inputs --reference "$ref" \
      --candidate "$cand" --quiet --json "$dir/$name.compare.json"
    # shellcheck disable=SC2086
    step "$(basename "$dir")-$name-bisect" "$cap" "${HB[@]}" bisect "$path" $inputs --reference "$ref" \
      --candidate "$cand" --quiet --json "$dir/$name.bisect.json"
  done < "$M/models.tsv"
}
# The emulation side needs no GPU: it runs beside the TensorRT side (CPU cores are shared).
side "$R/emulation" ort:fp32 ort:fp16-emulated 120 &
EMU=$!
side "$R/tensorrt" "$GPU_REF" "$GPU_CAND" 150
wait $EMU

"${AGREEMENT[@]}" table "$R/emulation" > "$R/emulation.txt" 2>> "$R/table.log"
"${AGREEMENT[@]}" table "$R/tensorrt" > "$R/tensorrt.txt" 2>> "$R/table.log"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >> "$SUMMARY" 2>/dev/null
echo "== emulation ($(hostname)): ort:fp32 vs ort:fp16-emulated"; cat "$R/emulation.txt"
echo "== TensorRT side: $GPU_REF vs $GPU_CAND"; cat "$R/tensorrt.txt"
echo "== steps"; cat "$SUMMARY"
