#!/usr/bin/env bash
# Renders an HTML report in headless Chromium and saves a PNG screenshot.
# Usage: report/scripts/screenshot.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]
# Needs the Debian package chromium (apt-get install -y chromium).
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 REPORT.html [OUT.png] [WIDTHxHEIGHT]" >&2
  exit 2
fi
html=$(realpath "$1")
out=$(realpath -m "${2:-${html%.html}.png}")
size=${3:-1400x2400}
[[ -f "$html" ]] || { echo "no such file: $html" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[[ -n "$browser" ]] || { echo "chromium not found: apt-get install -y chromium" >&2; exit 3; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --screenshot="$out" --window-size="${size/x/,}" \
  "file://$html" 2>/dev/null
[[ -s "$out" ]] || { echo "no screenshot written to $out" >&2; exit 1; }
echo "$out"
