#!/bin/sh
# Issue 12's goals measured on this machine in one go (about 8 minutes on a quiet 2-core VM); README: "Detection
# power, measured". Run it on a machine nothing else is using: it makes the background load itself.
#
#     bench/detection.sh [OUT_DIR]
#
# Sizes (environment): QUIET_RUNS=30 LOADED_RUNS=10 TRAIN=20 TRIALS=500 BLKIO_TRAIN=10 BLKIO_TRIALS=4.
#
# 1. quiet: QUIET_RUNS real quick-profile runs (manage.py measure_detection): the detection-power table, false fails,
#    inconclusive rate, detection@15% per family (CPU, memory, disk);
# 2. under background load: a CPU-bound process, a memory copier and a direct-I/O disk writer
#    (bench/background_load.py) beside LOADED_RUNS more runs; each judged as a healthy machine against baselines
#    learned from the quiet runs, with the server's whole verdict: goal, no `failed`;
# 3. a real disk held by the blkio throttle to 50 % and 85 % of its throughput (bench/blkio_detection.py; root and
#    cgroup v1 blkio), caught or not, beside each disk curve's detectable_pct.
# Everything is printed and kept in OUT_DIR (default: a new temporary directory), with `uptime` before each part.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-$(mktemp -d /tmp/dam-detection.XXXXXX)}
mkdir -p "$OUT"
QUIET_RUNS=${QUIET_RUNS:-30}
LOADED_RUNS=${LOADED_RUNS:-10}
TRIALS=${TRIALS:-500}
TRAIN=${TRAIN:-20}
BLKIO_TRAIN=${BLKIO_TRAIN:-10}
BLKIO_TRIALS=${BLKIO_TRIALS:-4}
PY=.venv/bin/python
# Its own data directory (scratch files only: measure_detection and the benches use no database).
export DAM_DATA_DIR="$OUT/data"
unset DATABASE_URL CELERY_BROKER_URL || true
LOAD_PIDS=""
stop_load() {
    for pid in $LOAD_PIDS; do kill "$pid" 2>/dev/null || true; done
    for pid in $LOAD_PIDS; do wait "$pid" 2>/dev/null || true; done
    LOAD_PIDS=""
}
trap stop_load EXIT
trap 'stop_load; exit 130' INT TERM

echo "== 1. quiet: $QUIET_RUNS runs ($(uptime))" | tee "$OUT/quiet.uptime"
$PY manage.py measure_detection --runs "$QUIET_RUNS" --measure-only --save "$OUT/quiet.json"
uptime | tee -a "$OUT/quiet.uptime"

echo "== 2. under background load: $LOADED_RUNS runs"
for kind in cpu memory disk; do
    $PY bench/background_load.py "$kind" --scratch "$OUT/data" &
    LOAD_PIDS="$LOAD_PIDS $!"
done
sleep 3
echo "load started ($(uptime))" | tee "$OUT/loaded.uptime"
$PY manage.py measure_detection --runs "$LOADED_RUNS" --measure-only --save "$OUT/loaded.json"
uptime | tee -a "$OUT/loaded.uptime"
stop_load

echo "== 3. a real disk held by the blkio throttle ($(uptime))"
$PY bench/blkio_detection.py --train "$BLKIO_TRAIN" --trials "$BLKIO_TRIALS" --scratch "$OUT/data/blkio" \
    | tee "$OUT/blkio.txt" || true

echo "== the quiet table, and the loaded runs judged against the quiet baselines"
$PY manage.py measure_detection --load "$OUT/quiet.json" --loaded "$OUT/loaded.json" --train "$TRAIN" \
    --trials "$TRIALS" \
    | tee "$OUT/detection.txt"
echo "(kept in $OUT)"
