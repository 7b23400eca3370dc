# Step timing for the build and test scripts (sourced, not run): `step NAME CMD...` runs CMD, prints
# its wall time and the machine's peak memory in use while it ran, and records both. The outermost
# script that sources this file prints the table of every step when it exits, also on failure;
# scripts it calls (`.ci/run` -> `npm test` -> `npm run build`) add their steps to the same table,
# indented under the step that ran them.
#
# Memory is the whole machine's (MemTotal - MemAvailable, sampled every 2 s), so it includes
# whatever else runs beside the steps.

_steps_sample() {
  awk -v t="$(date +%s)" '/^MemTotal:/ {total=$2} /^MemAvailable:/ {avail=$2}
    END {printf "%d %d\n", t, (total - avail) / 1024}' /proc/meminfo >>"$FASTSAM_STEPS_MEM"
}

if [ -z "${FASTSAM_STEPS_FILE:-}" ]; then
  FASTSAM_STEPS_FILE=$(mktemp -t fastsam-steps.XXXXXX)
  FASTSAM_STEPS_MEM=$(mktemp -t fastsam-mem.XXXXXX)
  export FASTSAM_STEPS_FILE FASTSAM_STEPS_MEM
  _steps_started=$SECONDS
  # Sampler: one "<epoch seconds> <MiB in use>" line every 2 seconds, until the owner exits.
  (
    while :; do
      _steps_sample
      sleep 2
    done
  ) &
  _steps_sampler=$!

  _steps_table() {
    local status=$1
    kill "$_steps_sampler" 2>/dev/null || true
    printf '\n\033[1m== time per step\033[0m\n'
    # "S id depth name" when a step starts, "E id seconds peak result" when it ends.
    awk -F'\t' -v wall=$((SECONDS - _steps_started)) -v status="$status" '
      $1 == "S" {order[++k] = $2; depth[$2] = $3; name[$2] = $4}
      $1 == "E" {secs[$2] = $3; peak[$2] = $4; result[$2] = $5}
      END {
        printf "%-76s %8s %9s  %s\n", "step", "seconds", "peak MiB", "result"
        for (i = 1; i <= k; i++) {
          id = order[i]
          label = sprintf("%*s%s", 2 * depth[id], "", name[id])
          if (!(id in secs)) {printf "%-76s %8s %9s  %s\n", substr(label, 1, 76), "-", "-", "did not finish"; continue}
          printf "%-76s %8d %9d  %s\n", substr(label, 1, 76), secs[id], peak[id], result[id]
          if (peak[id] > max) max = peak[id]
        }
        printf "%-76s %8d %9d  %s\n", "total (wall)", wall, max, status == 0 ? "passed" : "FAILED (exit " status ")"
      }' "$FASTSAM_STEPS_FILE"
    rm -f "$FASTSAM_STEPS_FILE" "$FASTSAM_STEPS_MEM"
  }
  trap '_steps_table $?' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
fi

# step NAME CMD...: runs CMD as one timed step. A failure is recorded, then returned (so `set -e`
# ends the calling script).
step() {
  local name=$1
  shift
  local id="$BASHPID.$RANDOM.$SECONDS" depth=${FASTSAM_STEPS_DEPTH:-0} t0=$SECONDS e0 status=0 secs peak
  e0=$(date +%s)
  printf 'S\t%s\t%d\t%s\n' "$id" "$depth" "$name" >>"$FASTSAM_STEPS_FILE"
  printf '\n\033[1m== %s\033[0m\n' "$name"
  FASTSAM_STEPS_DEPTH=$((depth + 1)) "$@" || status=$?
  secs=$((SECONDS - t0))
  _steps_sample
  peak=$(awk -v a="$e0" -v b="$(date +%s)" '$1 >= a && $1 <= b && $2 > m {m = $2} END {print m + 0}' \
    "$FASTSAM_STEPS_MEM")
  printf '\033[1m-- %s: %d s, peak %d MiB in use%s\033[0m\n' "$name" "$secs" "$peak" \
    "$([ "$status" = 0 ] || echo ", FAILED (exit $status)")"
  printf 'E\t%s\t%d\t%d\t%s\n' "$id" "$secs" "$peak" \
    "$([ "$status" = 0 ] && echo ok || echo "FAILED (exit $status)")" >>"$FASTSAM_STEPS_FILE"
  return "$status"
}
