#!/usr/bin/env bash
# GPU check (issue 19, "GPU, checked"): on a CUDA machine, in under 8 minutes,
#   1. print the GPU's nvidia-smi facts (stop with a clear message if there is no NVIDIA GPU);
#   2. make sure torch is a CUDA build of the pinned version (Makefile TORCH_PIN), installing it
#      from the PyTorch index if the current one is a CPU build;
#   3. run the unit tests that need CUDA;
#   4. run benchmarks/gpu_check.py: one full-profile experiment per SSL method on UWave and UCI HAR
#      on CUDA with mixed precision, and a JSON summary beside the committed CPU records.
# Everything goes under $OUT if set, else benchmarks/results/gpu_check/.
#
# Usage (from anywhere):  bash benchmarks/gpu_check.sh
# Environment:
#   OUT                     output folder (default benchmarks/results/gpu_check)
#   PYTHON                  interpreter (default .venv/bin/python, else python3)
#   TORCH_CUDA_TAG          wheel index tag for the CUDA build (default cu126): .../whl/$TORCH_CUDA_TAG
#   GPU_CHECK_JOBS          runs at once on the GPU, each in its own process (default 4)
#   GPU_CHECK_ARGS          extra arguments for gpu_check.py (e.g. "--budget-scale 1 --search-max 0")
#   GPU_CHECK_RUNS_TIMEOUT  at most this many seconds for the 16 runs (default 390)
#   GPU_CHECK_DEADLINE      seconds for the whole script (default 470: under 8 minutes); the runs get
#                           what is left of it after the install and the tests, if less than the above
#   SSLTS_DATA_MIRROR       dataset mirror (default ../shared/data when it exists)
# Offline machines: pip cannot reach download.pytorch.org; have a CUDA wheel of the pinned torch
# already installed, or point pip at a folder of wheels / a local index (PIP_FIND_LINKS=/path/to/wheels,
# with PIP_NO_INDEX=1 so pip does not retry the unreachable index; or PIP_INDEX_URL), which the
# install step below honours.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT_DIR="${OUT:-$ROOT/benchmarks/results/gpu_check}"
mkdir -p "$OUT_DIR"
LOG="$OUT_DIR/gpu_check.log"
: > "$LOG"
START=$(date +%s)
log() { echo "[gpu_check.sh +$(( $(date +%s) - START ))s] $*" | tee -a "$LOG"; }
die() { log "ERROR: $*"; exit 1; }

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
if [[ -z "${SSLTS_DATA_MIRROR:-}" && -d "$ROOT/../shared/data" ]]; then
  export SSLTS_DATA_MIRROR="$(cd "$ROOT/../shared/data" && pwd)"
fi
if [[ -z "${SSLTS_DATA_MIRROR:-}" && -d "$ROOT/shared/data" ]]; then
  export SSLTS_DATA_MIRROR="$ROOT/shared/data"
fi
# Exact reruns on CUDA need this before the process starts (see sslts.train).
export CUBLAS_WORKSPACE_CONFIG="${CUBLAS_WORKSPACE_CONFIG:-:4096:8}"

# ---------------------------------------------------------------- 1. the GPU
log "1/4 GPU"
command -v nvidia-smi >/dev/null 2>&1 || die "no NVIDIA GPU here: nvidia-smi not found. Run this on a CUDA machine; on a CPU, try: $PYTHON benchmarks/gpu_check.py --device cpu --tiny"
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,compute_cap,utilization.gpu \
  --format=csv > "$OUT_DIR/nvidia_smi.csv" 2>>"$LOG" || die "nvidia-smi found no usable NVIDIA GPU (see $LOG)"
[[ $(wc -l < "$OUT_DIR/nvidia_smi.csv") -ge 2 ]] || die "nvidia-smi lists no GPU"
cat "$OUT_DIR/nvidia_smi.csv" | tee -a "$LOG"
nvidia-smi > "$OUT_DIR/nvidia_smi.txt" 2>&1 || true
grep -m1 "CUDA Version" "$OUT_DIR/nvidia_smi.txt" | tee -a "$LOG" || true

# ---------------------------------------------------------------- 2. torch, a CUDA build of the pin
log "2/4 torch"
PIN=$(sed -n 's/^TORCH_PIN *:= *torch==\([0-9][0-9.]*\).*/\1/p' Makefile | head -1)
[[ -n "$PIN" ]] || PIN=$(grep -o 'torch==[0-9][0-9.]*' pyproject.toml environment.yml 2>/dev/null | head -1 | sed 's/.*==//')
[[ -n "$PIN" ]] || die "no torch pin found in Makefile (TORCH_PIN), pyproject.toml or environment.yml"
TAG="${TORCH_CUDA_TAG:-cu126}"
torch_state() {
  timeout 120 "$PYTHON" -c 'import torch; print(torch.__version__.split("+")[0], torch.version.cuda or "none", torch.cuda.is_available())' 2>>"$LOG"
}
STATE=$(torch_state) || STATE="missing none False"
log "pinned torch==$PIN; installed: $STATE (version, CUDA build, cuda available)"
read -r VERSION BUILT AVAILABLE <<< "$STATE"
if [[ "$AVAILABLE" != "True" || "$VERSION" != "$PIN" ]]; then
  if [[ "$BUILT" != "none" && "$VERSION" == "$PIN" ]]; then
    die "torch $VERSION is a CUDA $BUILT build but sees no GPU: check the driver (nvidia-smi above) against CUDA $BUILT"
  fi
  log "installing torch==$PIN from https://download.pytorch.org/whl/$TAG (set TORCH_CUDA_TAG to change; offline: PIP_FIND_LINKS)"
  timeout 240 "$PYTHON" -m pip install --quiet "torch==$PIN" --index-url "https://download.pytorch.org/whl/$TAG" \
    >>"$LOG" 2>&1 || die "could not install torch==$PIN ($TAG); offline machines need a CUDA wheel present or PIP_FIND_LINKS (see $LOG)"
  STATE=$(torch_state) || die "torch does not import after the install (see $LOG)"
  log "now: $STATE"
  read -r VERSION BUILT AVAILABLE <<< "$STATE"
  [[ "$AVAILABLE" == "True" ]] || die "torch $VERSION (CUDA $BUILT) still sees no GPU"
fi
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "device", torch.cuda.get_device_name(0))' | tee -a "$LOG"

# ---------------------------------------------------------------- 3. the unit tests that need CUDA
# They are the tests that branch on torch.cuda.is_available() (`grep -rn cuda tests/`): CUDA
# augmentations and generators, and the device policy. With CUDA present they run instead of skipping.
log "3/4 CUDA unit tests"
timeout 90 "$PYTHON" -m pytest -q -rs -p no:cacheprovider tests/test_augment.py \
  tests/test_train.py::test_one_device_resolution_for_every_loop \
  tests/test_params.py::test_asking_for_a_missing_gpu_names_what_there_is tests/test_gpu_check.py \
  -k "cuda or device or gpu" --junitxml="$OUT_DIR/cuda_tests.xml" > "$OUT_DIR/cuda_tests.txt" 2>&1
TESTS_RC=$?
tail -5 "$OUT_DIR/cuda_tests.txt" | tee -a "$LOG"
if [[ $TESTS_RC -eq 4 || $TESTS_RC -eq 5 ]]; then  # a renamed test (not found / none collected): run the files whole
  timeout 90 "$PYTHON" -m pytest -q -rs -p no:cacheprovider tests/test_augment.py tests/test_train.py \
    --junitxml="$OUT_DIR/cuda_tests.xml" > "$OUT_DIR/cuda_tests.txt" 2>&1
  TESTS_RC=$?
  tail -5 "$OUT_DIR/cuda_tests.txt" | tee -a "$LOG"
fi
[[ $TESTS_RC -eq 0 ]] || log "CUDA unit tests FAILED (rc $TESTS_RC, see $OUT_DIR/cuda_tests.txt); going on with the runs"

# ---------------------------------------------------------------- 4. the runs and the summary
ELAPSED=$(( $(date +%s) - START ))
RUNS_TIMEOUT=$(( ${GPU_CHECK_DEADLINE:-470} - ELAPSED - 15 ))
(( RUNS_TIMEOUT > ${GPU_CHECK_RUNS_TIMEOUT:-390} )) && RUNS_TIMEOUT=${GPU_CHECK_RUNS_TIMEOUT:-390}
(( RUNS_TIMEOUT < 60 )) && RUNS_TIMEOUT=60
log "4/4 runs (gpu_check.py), at most $RUNS_TIMEOUT s"
# shellcheck disable=SC2086  # GPU_CHECK_ARGS is a list of arguments
timeout --kill-after=10 "$RUNS_TIMEOUT" "$PYTHON" benchmarks/gpu_check.py --device cuda \
  --jobs "${GPU_CHECK_JOBS:-4}" --out "$OUT_DIR" ${GPU_CHECK_ARGS:-} 2>&1 | tee -a "$LOG"
RUNS_RC=${PIPESTATUS[0]}
[[ $RUNS_RC -eq 124 || $RUNS_RC -eq 137 ]] && log "the runs hit their $RUNS_TIMEOUT s guard: the summary holds those that finished"
log "done in $(( $(date +%s) - START )) s: tests rc $TESTS_RC, runs rc $RUNS_RC; summary $OUT_DIR/gpu_check_summary.json"
[[ $TESTS_RC -eq 0 && $RUNS_RC -eq 0 ]]
