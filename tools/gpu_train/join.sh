#!/usr/bin/env bash
# join.sh PARTS DEST: join the parts that tools/gpu_train/pack.py cut (in manifest.txt's order), check the
# whole against the manifest's SHA-256, and unpack it into DEST. Exit 2, naming them, if parts are missing.
set -euo pipefail
parts=$1 dest=$2
missing=$(cd "$parts" && tail -n +2 manifest.txt | while read -r part; do [ -f "$part" ] || echo "$part"; done)
[ -z "$missing" ] || { echo "join.sh: parts not carried yet:" $missing >&2; exit 2; }
whole=$(mktemp)
(cd "$parts" && tail -n +2 manifest.txt | xargs cat) >"$whole"
echo "$(head -1 "$parts/manifest.txt")  $whole" | sha256sum -c --quiet
mkdir -p "$dest" && tar -xf "$whole" -C "$dest" && rm "$whole"
