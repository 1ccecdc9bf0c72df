#!/usr/bin/env bash
# GPU-machine side of the combined GPU run: after the staged TensorRT parts are unpacked
# ($H/env.sh), .gpu/jars copied to $H/jars and MiniLM joined to $H/minilm.onnx.
# Phase 1 runs the parallel-probe benchmark; phase 2 the other scripts, one after another. Each
# script writes $HB_R/<id>/summary.txt.
# Start detached:  setsid nohup bash bench/gpu/run-all.sh P1 P2 > /opt/hb/run.log 2>&1 &
H=${HB_HOME:-/opt/hb}; [ -f "$H/env.sh" ] && source "$H/env.sh"   # HB_HOME + HB_CPU_DRYRUN=1: a CPU rehearsal
P1=${1:-240}; P2=${2:-480}
export HB_R=${HB_R:-$H/r} HB_MINILM=$H/minilm.onnx HB_TSF=$H/jars/tsf-model.onnx
export HB_TOKENIZER=$H/jars/minilm-tokenizer.json
export HB_CP=$(ls $H/jars/*.jar | tr '\n' ':')$HB_TRT_JARS
# ONNX Runtime 1.29 crashed on long command lines before OrtNatives' fix: the scripts' `java` still
# goes through an argfile (the longcmd step below checks the fix with the real java)
mkdir -p "$H/bin" && cp bench/gpu/java-argfile.sh "$H/bin/java" && chmod +x "$H/bin/java"
export HB_REAL_JAVA=$(command -v java) PATH=$H/bin:$PATH
mkdir -p "$HB_R"; date -u +%FT%TZ > "$HB_R/START"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$HB_R/gpu.txt" 2>&1
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 5 > "$HB_R/smi.csv" 2>&1 &
SMI=$!
# TensorRT builds are CPU-bound (the sixth session's GPU sat at 0-9% through four MiniLM builds at
# once): the load average beside the GPU's shows whether workers and emulation compete for cores
( while sleep 5; do echo "$(date -u +%T) $(cut -d' ' -f1-4 /proc/loadavg)"; done ) > "$HB_R/load.txt" 2>&1 &
LOAD=$!
run() { local id=$1 dl=$2; [ -f "bench/gpu/$id.sh" ] || { echo "$id: no script" >> "$HB_R/missing.txt"; return; }
        mkdir -p "$HB_R/$id"; local s; s=$(date +%s)
        HB_DEADLINE=$dl timeout $((dl + 30)) bash "bench/gpu/$id.sh" > "$HB_R/$id.log" 2>&1
        echo "$id rc=$? $(( $(date +%s) - s )) s" >> "$HB_R/scripts.txt"; }
# The ONNX Runtime long-command-line fix (docs/reliability.md), on this machine: the real java,
# no argfile, the whole class path on the command line.
# HB_LONGCMD=0 skips it (measured by an earlier run).
if [ "${HB_LONGCMD:-1}" = 1 ]; then
  mkdir -p "$HB_R/longcmd"
  CMDLEN=$(printf '%s\0' "$HB_REAL_JAVA" -cp "$HB_CP" dev.halfbisect.cli.Main compare "$HB_TSF" --input video:8x3x32x32:float32:-1..1 \
    --reference ort:fp32 --candidate ort:fp16-emulated --quiet | wc -c)
  timeout 120 "$HB_REAL_JAVA" -cp "$HB_CP" dev.halfbisect.cli.Main compare "$HB_TSF" --input video:8x3x32x32:float32:-1..1 \
    --reference ort:fp32 --candidate ort:fp16-emulated --quiet > "$HB_R/longcmd/log" 2>&1
  echo "longcmd rc=$? cmdline=${CMDLEN} bytes (1 = the planted FP16 failure, 139 = the crash)" > "$HB_R/longcmd/summary.txt"
fi
for id in ${HB_PHASE1-h18}; do run "$id" "$P1"; done
# Phase 2 one script after another (builds side by side on one GPU slow each other several times:
# README.md here); HB_DL_<id> gives a script its own deadline. The MiniLM timing cache phase 1
# left (either search's) warms h19's MiniLM builds (h18's own measurement needed it cold, h19's do not).
for tc in "$HB_R/h18/tcache-ml-emu" "$HB_R/h18/tcache-ml-acc16"; do
  [ -d "$tc" ] && [ ! -e "$HB_R/h19/tcache" ] && mkdir -p "$HB_R/h19" && cp -r "$tc" "$HB_R/h19/tcache"
done
# HB_PHASE2_PAR=1: phase 2's scripts side by side (when their wall times are not measured and the
# lease is short: two lanes of CPU-bound builds share 16 cores, slower each but done sooner)
LANES=()
for id in ${HB_PHASE2-h15a h15b h18b h19 h20}; do v=HB_DL_$id
  if [ "${HB_PHASE2_PAR:-0}" = 1 ]; then run "$id" "${!v:-$P2}" & LANES+=($!); else run "$id" "${!v:-$P2}"; fi
done
# only the lanes: a bare `wait` would wait for the nvidia-smi and load loops as well
[ ${#LANES[@]} -gt 0 ] && wait "${LANES[@]}"
kill $SMI $LOAD 2>/dev/null; date -u +%FT%TZ > "$HB_R/DONE"
