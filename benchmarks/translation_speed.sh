#!/bin/bash
# Step speed of the translation games (benchmarks/step_speed.py), one JSON line per row,
# written to $1 (default docs/translation_speed.jsonl) as each row finishes: pix2pix and
# CycleGAN at their experiments' sizes, and at the papers' settings (256x256, batch 1;
# CycleGAN with the paper's 64-channel, 9-block generators and 3-layer 70x70 PatchGANs).
#
#   benchmarks/translation_speed.sh [OUT.jsonl]
#
# The facades row needs only the shape of its data: it reads a folder of four random A|B
# images made here. The style rows read the painting from ../shared/data (or $PAINTING).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/translation_speed.jsonl}
PAINTING=${PAINTING:-../shared/data/style/starry_night.jpg}
FOLDER=$(mktemp -d)
trap 'rm -rf "$FOLDER"' EXIT
python - "$FOLDER" <<'EOF'
import sys
import numpy as np
from PIL import Image
rng = np.random.default_rng(0)
for i in range(4):
  Image.fromarray(rng.integers(0, 256, (256, 512, 3), dtype=np.uint8)).save(f'{sys.argv[1]}/{i}.png')
EOF
: > "$OUT"
row() {  # name, then step_speed.py's arguments
  local name=$1
  shift
  local json
  json=$(python benchmarks/step_speed.py --seconds=20 --loader_seconds=3 "$@" 2>/dev/null | tail -1)
  echo "{\"row\": \"$name\", \"args\": \"$*\", \"result\": $json}" >> "$OUT"
}
row edges2fashion_pix2pix --config=experiments/edges2fashion_pix2pix.py
row colorize_pix2pix --config=experiments/colorize_pix2pix.py --config.data.num_examples=256
row facades_pix2pix_256_b1 --config=experiments/facades_pix2pix.py --config.data.path="$FOLDER"
row fashion2photo_cyclegan --config=experiments/fashion2photo_cyclegan.py
row vangogh_cyclegan --config=experiments/vangogh_cyclegan.py --config.data.path_b="$PAINTING" \
    --config.data.num_examples=256
row cyclegan_paper_256_b1 --config=experiments/vangogh_cyclegan.py --config.data.path_b="$PAINTING" \
    --config.data.num_examples=16 --config.data.patch_size=256 --config.batch_size=1 \
    --config.model.g_features=64 --config.model.resnet_blocks=9 --config.model.patch_layers=3 \
    --config.model.d_features=64
