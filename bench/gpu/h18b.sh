#!/usr/bin/env bash
# Issue 18, phase 2 of the combined run: h18.sh's part 2 (TimeSformer outputs-only search, k-ary
# rounds, two pools on one GPU), results under $HB_R/h18b/.
HB_H18_PART=2 exec bash "$(dirname "$0")/h18.sh" "$@"
