#!/usr/bin/env bash
# Builds and checks the agemark container image without pulling any base image:
#
#   bash workflows/containers/build-image.sh [--binary PATH] [--out DIR] [--no-check] [--oci-archive]
#
# (from anywhere; run as root, or with podman and mmdebstrap working for your user).
#
# 1. rootfs.tar: a minimal Debian root filesystem made by mmdebstrap from Debian's packages (the
#    `essential` variant plus procps, whose `ps` Nextflow uses for task metrics; documentation,
#    manual pages and locales left out, copyright files kept), of the suite of the machine that
#    built the binary (so its libc is the one the binary was linked against), with the non-root
#    user `agemark` (uid/gid 1000, home /home/agemark). SOURCE_DATE_EPOCH is the last commit's
#    time, so mmdebstrap's output does not depend on when it ran.
# 2. The image localhost/agemark:<version> (and localhost/agemark:latest) from
#    workflows/containers/Containerfile (`FROM scratch`, ADD rootfs.tar, COPY the stripped release
#    binary, USER agemark), built with podman (buildah inside; the Containerfile has no RUN step,
#    so the build itself never starts a container).
# 3. Smoke checks inside with podman, as the image's non-root user and without network:
#    `agemark --version` is the version of Cargo.toml; `id -u` is 1000; `agemark demo` writes the
#    cohort report and tables into a host directory mounted at /data, and its cohort tables and
#    report are byte-identical to those of the same binary's demo run outside the container.
#
# The version comes from Cargo.toml alone; the binary must print it (`agemark --version`).
# Settings: --binary (default $AGEMARK, else target/release/agemark), --out (default
# bench-out/container; the rootfs, the build context and the demo outputs land there),
# IMAGE (default localhost/agemark), SUITE (default: the build machine's Debian suite).
# --oci-archive also writes <out>/agemark.oci.tar (`podman save --format oci-archive`; the version
# is in its labels), which Apptainer builds a SIF from (workflows/containers/agemark.def).
#
# Where containers cannot start as podman expects (seen on agemark's build machines, which are
# virtual machines whose root lacks CAP_SYS_RESOURCE and has cgroup v1 with a cgroup v2 hierarchy
# beside it), the checks pass `--ulimit` values within the caller's hard limits and use runc
# instead of crun; see run_opts below and workflows/README.md ("Containers").
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BINARY="${AGEMARK:-$REPO/target/release/agemark}"
OUT="$REPO/bench-out/container"
IMAGE="${IMAGE:-localhost/agemark}"
CHECK=1
OCI_ARCHIVE=0
while [[ $# -gt 0 ]]; do
    case "$1" in
    --binary) BINARY="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --no-check) CHECK=0; shift ;;
    --oci-archive) OCI_ARCHIVE=1; shift ;;
    -h | --help) sed -n 2,34p "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

fail() {
    echo "build-image: FAILED: $*" >&2
    exit 1
}
t0=$EPOCHREALTIME
took() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }

# The one version: [workspace.package] version of Cargo.toml (every crate inherits it).
VERSION="$(awk -F'"' '/^\[/ { p = ($0 == "[workspace.package]") } p && /^version *=/ { print $2; exit }' "$REPO/Cargo.toml")"
[[ -n "$VERSION" ]] || fail "no [workspace.package] version in Cargo.toml"
BINARY="$(realpath "$BINARY")"
[[ -x "$BINARY" ]] || fail "no agemark binary at $BINARY (cargo build --release, or --binary PATH)"
got="$("$BINARY" --version)"
[[ "$got" == "agemark $VERSION" ]] || fail "$BINARY says '$got', Cargo.toml says $VERSION"

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi
}

# Debian's packages: mmdebstrap (the root filesystem), podman (+ buildah inside it), runc (see
# run_opts), uidmap. Installed only when a command is missing.
need=()
for c in mmdebstrap:mmdebstrap podman:podman runc:runc newuidmap:uidmap; do
    command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
done
if [[ ${#need[@]} -gt 0 ]]; then
    echo "build-image: installing ${need[*]} (Debian packages)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "build-image: agemark $VERSION from $BINARY; $(mmdebstrap --version); $(podman --version)"

SUITE="${SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}"
[[ -n "$SUITE" ]] || fail "cannot tell the Debian suite of this machine: set SUITE (e.g. bookworm)"
mkdir -p "$OUT"
OUT="$(realpath "$OUT")"
ctx="$OUT/context"
rm -rf "$ctx" && mkdir -p "$ctx"

# 1. The root filesystem. No mirror is named: mmdebstrap then takes Debian's default one with the
# suite's updates and security updates, which is what the machine's apt reaches.
step_start=$EPOCHREALTIME
SOURCE_DATE_EPOCH="$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH
mmdebstrap --quiet --variant=essential --include=procps --format=tar \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='echo "agemark:x:1000:1000:agemark:/home/agemark:/bin/bash" >>"$1/etc/passwd"' \
    --customize-hook='echo "agemark:x:1000:" >>"$1/etc/group"' \
    --customize-hook='if [ -e "$1/etc/shadow" ]; then echo "agemark:!:0:0:99999:7:::" >>"$1/etc/shadow"; fi' \
    --customize-hook='mkdir -p "$1/home/agemark" && chown 1000:1000 "$1/home/agemark" && chmod 0755 "$1/home/agemark"' \
    "$SUITE" "$ctx/rootfs.tar"
echo "build-image: rootfs.tar ($SUITE, $(du -m "$ctx/rootfs.tar" | cut -f1) MB) in $(took "$step_start")"

# 2. The image.
step_start=$EPOCHREALTIME
strip -o "$ctx/agemark" "$BINARY" 2>/dev/null || cp "$BINARY" "$ctx/agemark"
chmod 0755 "$ctx/agemark"
cp "$REPO/workflows/containers/Containerfile" "$ctx/Containerfile"
podman build --quiet --network none -f "$ctx/Containerfile" --build-arg "VERSION=$VERSION" \
    -t "$IMAGE:$VERSION" -t "$IMAGE:latest" "$ctx" >/dev/null
size="$(podman image inspect "$IMAGE:$VERSION" --format '{{.Size}}')"
echo "build-image: $IMAGE:$VERSION and :latest ($((size / 1000000)) MB) in $(took "$step_start")"
if [[ $OCI_ARCHIVE -eq 1 ]]; then
    rm -f "$OUT/agemark.oci.tar"
    podman save --quiet --format oci-archive -o "$OUT/agemark.oci.tar" "$IMAGE:$VERSION"
    echo "build-image: $OUT/agemark.oci.tar ($(du -m "$OUT/agemark.oci.tar" | cut -f1) MB)"
fi
[[ $CHECK -eq 1 ]] || { echo "build-image: done in $(took "$t0") (no checks)"; exit 0; }

# 3. Smoke checks. run_opts: podman's defaults for a root caller raise RLIMIT_NOFILE and
# RLIMIT_NPROC above the caller's hard limits, which needs CAP_SYS_RESOURCE; give limits within
# them (conmon itself runs with RLIMIT_NPROC 32768, so ask for less). crun (podman's default
# runtime on Debian) refuses the "hybrid" cgroup layout (cgroup v1 controllers plus a cgroup v2
# hierarchy at /sys/fs/cgroup/unified); runc accepts it.
run_opts=(--rm --network none --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
if [[ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs && "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" == cgroup2fs ]]; then
    run_opts=(--runtime runc "${run_opts[@]}")
fi
step_start=$EPOCHREALTIME
got="$(podman run "${run_opts[@]}" "$IMAGE:$VERSION" agemark --version)" ||
    fail "podman run $IMAGE:$VERSION agemark --version exited $?"
[[ "$got" == "agemark $VERSION" ]] || fail "the image's agemark says '$got', not agemark $VERSION"
uid="$(podman run "${run_opts[@]}" "$IMAGE:latest" id -u)"
[[ "$uid" == 1000 ]] || fail "the image runs as uid $uid, not the non-root agemark (1000)"
podman run "${run_opts[@]}" "$IMAGE:latest" ps -p 1 -o comm= >/dev/null || fail "no working ps in the image"
demo="$OUT/demo"
rm -rf "$demo" "$OUT/demo-host" && mkdir -p "$demo"
chmod 0777 "$demo" # the image's uid 1000 writes here
podman run "${run_opts[@]}" -v "$demo:/data" "$IMAGE:latest" agemark demo --outdir /data/agemark-demo -q >/dev/null ||
    fail "agemark demo inside the image exited $?"
[[ -s "$demo/agemark-demo/cohort/report.html" ]] || fail "the demo in the image wrote no cohort/report.html"
[[ "$(stat -c %u "$demo/agemark-demo/cohort/report.html")" == 1000 ]] || fail "the demo's files are not the non-root user's"
"$BINARY" demo --outdir "$OUT/demo-host/agemark-demo" -q >/dev/null
n=0
for f in "$OUT/demo-host/agemark-demo/cohort/"{report.html,cohort.*.tsv}; do
    cmp -s "$f" "$demo/agemark-demo/cohort/$(basename "$f")" ||
        fail "the image's demo wrote a different $(basename "$f") than the binary outside"
    n=$((n + 1))
done
echo "build-image: checks in $(took "$step_start"): agemark --version = $VERSION as uid 1000 without network;" \
    "demo wrote cohort/report.html and $((n - 1)) cohort tables, byte-identical to the binary's outside"
echo "build-image: done in $(took "$t0")"
