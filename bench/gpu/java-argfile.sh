#!/usr/bin/env bash
# `java` with all its arguments moved into a Java @argfile, so /proc/self/cmdline stays short
# (ONNX Runtime 1.29's start-up telemetry crashes on command lines of about 4 KB and more).
f=$(mktemp "${TMPDIR:-/tmp}/hb-java-args.XXXXXX")
for a in "$@"; do a=${a//\\/\\\\}; printf '"%s"\n' "${a//\"/\\\"}" >> "$f"; done
exec "${HB_REAL_JAVA:?path of the real java}" "@$f"
