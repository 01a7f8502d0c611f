#!/usr/bin/env bash
# Chaos check: a distillation (and the teacher's training) killed at random moments many times, resumed
# after each kill, must end with the same student file, metrics and summary as an uninterrupted run.
#
#   tests/chaos/kill-resume.sh [ROUNDS] [MAX_SECONDS_BEFORE_KILL]
#
# Each round trains a teacher and distills a student under kills: every attempt runs the command with
# --resume and is killed after a random 0.2..MAX seconds (SIGKILL three times in four, SIGTERM otherwise,
# which must stop cleanly with 143), until one attempt finishes on its own. Data: a small synthetic
# Fashion-MNIST written by python3 (no download). Prints one line per round and the totals; exit 1 on
# any difference. Uses a build under src/NoiseKD.Cli/bin/Release (built here if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
MAX=${2:-6}
WORK=$(mktemp -d /tmp/noisekd-chaos.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

dotnet build src/NoiseKD.Cli -c Release -v quiet -nologo >/dev/null
NOISEKD=(dotnet src/NoiseKD.Cli/bin/Release/net10.0/noisekd.dll)

/usr/bin/python3 - "$WORK/data/fashion-mnist" <<'PY'
import gzip, os, random, struct, sys
root = sys.argv[1]; os.makedirs(root, exist_ok=True)
for prefix, count, seed in (("train", 2048, 1), ("t10k", 200, 2)):
    rng = random.Random(seed); labels = bytes(rng.randrange(4) for _ in range(count)); pixels = bytearray()
    for label in labels:  # class k is bright in horizontal band k, as tests/NoiseKD.Tests/SyntheticFashionMnist.cs
        for p in range(784):
            band = label * 7 <= p // 28 < label * 7 + 7
            pixels.append(max(0, min(255, (180 if band else 40) + rng.randrange(-40, 40))))
    with gzip.open(f"{root}/{prefix}-images-idx3-ubyte.gz", "wb") as f: f.write(struct.pack(">IIII", 0x803, count, 28, 28) + bytes(pixels))
    with gzip.open(f"{root}/{prefix}-labels-idx1-ubyte.gz", "wb") as f: f.write(struct.pack(">II", 0x801, count) + labels)
PY

TRAIN=(train --arch lenet5 --epochs 4 --batch-size 32 --lr 0.05 --data-root "$WORK/data" --threads 1)
distill_args() { echo distill --teacher "$1" --student-arch resnet18 --student-width 0.0625 --epochs 5 --steps 12 --batch-size 32 \
                      --eval-batch-size 100 --adjust-samples 64 --data-root "$WORK/data" --threads 1; }

# Runs "$@ --out DIR --resume" until it exits 0, killing each attempt after a random delay; prints the kill counts.
kills=0 terms=0 attempts=0
under_chaos() {
  local out=$1; shift
  while true; do
    attempts=$((attempts + 1))
    "${NOISEKD[@]}" "$@" --out "$out" --resume >"$WORK/log" 2>&1 &
    local pid=$! delay
    delay=$(awk -v s=$RANDOM -v max="$MAX" 'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * (max - 0.2) }')
    local waited=0
    while kill -0 "$pid" 2>/dev/null && awk -v w=$waited -v d="$delay" 'BEGIN { exit !(w < d) }'; do sleep 0.05; waited=$(awk -v w=$waited 'BEGIN { print w + 0.05 }'); done
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" && return 0
      echo "chaos: an attempt failed on its own:"; cat "$WORK/log"; exit 1
    fi
    if (( RANDOM % 4 == 0 )); then
      kill -TERM "$pid"; terms=$((terms + 1))
      local code=0; wait "$pid" || code=$?
      [[ $code == 143 || $code == 0 ]] || { echo "chaos: SIGTERM ended with $code:"; cat "$WORK/log"; exit 1; }
      [[ $code == 0 ]] && return 0
    else
      kill -KILL "$pid"; kills=$((kills + 1)); wait "$pid" 2>/dev/null || true
    fi
  done
}

# Same result: student/model bytes, metrics rows and summary without their wall-clock fields.
same() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys, os, filecmp
a, b = sys.argv[1], sys.argv[2]
clock = {"seconds", "images_per_s"}
def rows(d): return [{k: v for k, v in json.loads(l).items() if k not in clock} for l in open(os.path.join(d, "metrics.jsonl")) if l.strip()]
ok = rows(a) == rows(b)
for f in ("model.safetensors", "student.safetensors"):
    if os.path.exists(os.path.join(a, f)): ok &= filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False)
if os.path.exists(os.path.join(a, "summary.json")):
    s = lambda d: {k: v for k, v in json.load(open(os.path.join(d, "summary.json"))).items() if k not in clock}
    ok &= s(a) == s(b)
sys.exit(0 if ok else 1)
PY
}

start=$(date +%s)
"${NOISEKD[@]}" "${TRAIN[@]}" --out "$WORK/teacher-ref" >/dev/null
# shellcheck disable=SC2046
"${NOISEKD[@]}" $(distill_args "$WORK/teacher-ref/model.safetensors") --out "$WORK/student-ref" >/dev/null
ref_seconds=$(( $(date +%s) - start ))
echo "chaos: uninterrupted teacher + student in ${ref_seconds} s"
# The comparison must be able to fail: two different runs are told apart.
! same "$WORK/teacher-ref" "$WORK/student-ref" 2>/dev/null || { echo "chaos: the comparison cannot tell two runs apart"; exit 1; }

for round in $(seq 1 "$ROUNDS"); do
  before=$((kills + terms))
  under_chaos "$WORK/teacher-$round" "${TRAIN[@]}"
  same "$WORK/teacher-ref" "$WORK/teacher-$round" || { echo "chaos: round $round teacher differs"; exit 1; }
  # shellcheck disable=SC2046
  under_chaos "$WORK/student-$round" $(distill_args "$WORK/teacher-ref/model.safetensors")
  same "$WORK/student-ref" "$WORK/student-$round" || { echo "chaos: round $round student differs"; exit 1; }
  echo "chaos: round $round: $((kills + terms - before)) interruptions, teacher and student identical to the uninterrupted run"
done
echo "chaos: $ROUNDS rounds, $attempts attempts, $kills SIGKILL + $terms SIGTERM interruptions, every run identical to the uninterrupted one; $(( $(date +%s) - start )) s"
