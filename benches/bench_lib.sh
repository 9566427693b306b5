# bench_lib.sh - shared helpers of the benchmark scripts (sourced, not run).
# Needs: RUN_DIR set by the caller; GNU time at /usr/bin/time.

die() { echo "error: $*" >&2; exit 1; }

# Busy CPU seconds of the whole machine so far (all cores, from /proc/stat).
busy_s() {
    local a
    read -r -a a < /proc/stat
    echo "$(( a[1] + a[2] + a[3] + a[6] + a[7] + a[8] )) $(getconf CLK_TCK)" | awk '{printf "%.2f", $1 / $2}'
}

# timed NAME CMD...: runs CMD under /usr/bin/time; appends "NAME wall_s rss_kb user_s sys_s
# others_s" to $RUN_DIR/times.txt, where others_s = CPU seconds used on the machine during the run
# by anything but CMD (a concurrent build shows up here: the timing is then unreliable).
# CMD's stdout/stderr go to $RUN_DIR/NAME.{out,err}.
timed() {
    local name="$1"; shift
    echo "== $name: $*"
    local before after
    before="$(busy_s)"
    /usr/bin/time -f "%e %M %U %S" -o "$RUN_DIR/$name.time" "$@" > "$RUN_DIR/$name.out" 2> "$RUN_DIR/$name.err" \
        || { tail -20 "$RUN_DIR/$name.err" >&2; die "$name failed (log: $RUN_DIR/$name.err)"; }
    after="$(busy_s)"
    local t; t="$(tail -1 "$RUN_DIR/$name.time")"
    local others; others="$(echo "$before $after $t" | awk '{o = $2 - $1 - $5 - $6; printf "%.1f", o < 0 ? 0 : o}')"
    echo "$name $t $others" | tee -a "$RUN_DIR/times.txt"
}

