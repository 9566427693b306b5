# bench_lib.sh - shared helpers of the benchmark scripts (sourced, not run).
# Needs: RUN_DIR set by the caller; GNU time at /usr/bin/time.

die() { echo "error: $*" >&2; exit 1; }

# Percent of CPU time used by anything over the last second (before a run: a concurrent build
# shows up here and makes the timings unreliable).
busy_pct() {
    local a b
    read -r -a a < <(head -1 /proc/stat)
    sleep 1
    read -r -a b < <(head -1 /proc/stat)
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    local idle=$(( (b[4] - a[4]) + (b[5] - a[5]) ))
    echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

# timed NAME CMD...: runs CMD under /usr/bin/time; appends "NAME wall_s rss_kb user_s sys_s busy%"
# to $RUN_DIR/times.txt; stdout/stderr go to $RUN_DIR/NAME.{out,err}.
timed() {
    local name="$1"; shift
    local busy; busy="$(busy_pct)"
    echo "== $name: $*  (machine ${busy}% busy before)"
    /usr/bin/time -f "%e %M %U %S" -o "$RUN_DIR/$name.time" "$@" > "$RUN_DIR/$name.out" 2> "$RUN_DIR/$name.err" \
        || { tail -20 "$RUN_DIR/$name.err" >&2; die "$name failed (log: $RUN_DIR/$name.err)"; }
    echo "$name $(tail -1 "$RUN_DIR/$name.time") $busy" | tee -a "$RUN_DIR/times.txt"
}
