#!/usr/bin/env bash
# The GPU measurements of issue 5 in one run, for a machine with one CUDA GPU.
#
#   bash benchmarks/gpu_suite.sh [OUT_DIR]      (default: runs/gpu_suite)
#
# Needs gan_jax importable with a CUDA jax, and a CUDA torch for the PyTorch comparison
# (`compare_torch.py` puts torch on `cuda` when JAX runs on a GPU). For each of
# cifar10_dcgan and cifar10_sngan at batch 256, in float32 and with bfloat16 mixed
# precision, it writes one JSON line from `step_speed.py` (steps/s, examples/s, FLOPs per
# step, compile time, share of the GPU's matmul peak in the compute dtype) to
# OUT_DIR/step_speed.jsonl and one from `compare_torch.py` (gan_jax against torch, medians
# of alternating windows) to OUT_DIR/compare_torch.jsonl, with their Markdown rows in
# OUT_DIR/compare_torch.md. Data are synthetic batches of CIFAR-10's shape, so no dataset
# is needed. Each command's log is in OUT_DIR/logs. A failing command is logged and the
# suite goes on to the next.
#
# Measured on one H200 (2026-12-04): the cifar10_dcgan half took about 4 minutes, and
# cifar10_sngan in float32 1.5 minutes for step_speed and 3 for compare_torch (up to its
# matmul floor, which then ran out of memory: since mended), so the whole suite (about 13
# minutes) outlasts a 10-minute command. CONFIGS and DTYPES choose a
# part (space-separated; defaults: all of them), for example
#   CONFIGS=cifar10_sngan DTYPES=bfloat16 bash benchmarks/gpu_suite.sh runs/gpu_suite
set -u
out=${1:-runs/gpu_suite}
configs=${CONFIGS:-cifar10_dcgan cifar10_sngan}
dtypes=${DTYPES:-float32 bfloat16}
mkdir -p "$out/logs"
python - <<'EOF' || { echo "gpu_suite: JAX sees no GPU; this suite is for GPU machines." >&2; exit 2; }
import jax, sys
sys.exit(0 if jax.default_backend() == 'gpu' else 1)
EOF

for config in $configs; do
  for dtype in $dtypes; do
    name=${config}_b256_${dtype}
    flags=(--config="experiments/${config}.py" --config.batch_size=256
           --config.model.compute_dtype="$dtype")
    echo "== $name"
    python benchmarks/step_speed.py "${flags[@]}" --seconds=10 --peak_seconds=3 \
        > "$out/logs/step_speed_$name.log" 2>&1 \
      && grep '^{' "$out/logs/step_speed_$name.log" | tail -n 1 >> "$out/step_speed.jsonl" \
      || echo "step_speed failed for $name: see $out/logs/step_speed_$name.log"
    python benchmarks/compare_torch.py "${flags[@]}" --rounds=3 --seconds=5 \
        > "$out/logs/compare_torch_$name.log" 2>&1 \
      && { grep '^{' "$out/logs/compare_torch_$name.log" | tail -n 1 >> "$out/compare_torch.jsonl"
           grep '^| `' "$out/logs/compare_torch_$name.log" | tail -n 1 >> "$out/compare_torch.md"; } \
      || echo "compare_torch failed for $name: see $out/logs/compare_torch_$name.log"
  done
done
echo "results in $out: step_speed.jsonl, compare_torch.jsonl, compare_torch.md"
