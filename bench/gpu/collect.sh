#!/usr/bin/env bash
# Waits (at most $1 seconds) for run-all.sh to finish, then packs the results (no engines or
# timing caches) into $OUT and prints every summary.
H=${HB_HOME:-/opt/hb}; W=${1:-540}; R=${HB_R:-$H/r}; s=$(date +%s)
while [ ! -f $R/DONE ] && [ $(( $(date +%s) - s )) -lt "$W" ]; do sleep 5; done
[ -f $R/DONE ] || echo "NOT DONE after $W s"
# worker JVM crash reports sit beside the timing caches, which the archive leaves out: copy them
# (the 2026-12-07 run lost two exit-134 reports that way)
mkdir -p "$R/crash"; find "$R" -path "$R/crash" -prune -o -name 'hs_err*.log' -size -2M -print 2>/dev/null \
  | while read -r f; do cp "$f" "$R/crash/"; done
tar czf "${OUT:-$H}/r.tgz" -C "$(dirname "$R")" --exclude='*tcache*' --exclude='*.engine' --exclude='*.plan' --exclude='*.onnx' --exclude='*.onnx.data' --exclude='*javacpp*' --exclude='*hbcache*' --exclude='*.npz' "$(basename "$R")" run.log 2>/dev/null
cat $R/gpu.txt $R/scripts.txt 2>/dev/null; for f in $R/*/summary.txt; do echo "== $f"; tail -25 "$f"; done
