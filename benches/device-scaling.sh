#!/usr/bin/env bash
# A proxy-bound comparison for a machine with many cores (the 16-core device machine a session
# is sometimes lent): each proxy gets N cores and the generator and backend the rest, so the
# load side is no longer the ceiling, as it is on a 2-core box (see benches/RESULTS.md, "Why
# 1.3x nginx is out of reach on this box").
#
# Prepare on the development machine (x86-64), from the repository root:
#   cargo build --release --workspace
#   benches/device-scaling.sh --fetch-debs      # nginx + HAProxy .debs into .debs/ (ignored)
# Then run it there in one call, carrying the binaries and the .debs, e.g. with the device tool:
#   run(command="benches/device-scaling.sh $OUT 1 4",
#       carry=["target/release/hawser", "target/release/hawser-bench", ".debs"],
#       timeout_s=540)
# It writes at most 8 files to OUT: the host's core count and io_uring check, and each N's
# results.md / results.json (N = 1 and 4 by default: about 5 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--fetch-debs" ]; then
  mkdir -p .debs
  grep -qx '/.debs/' .git/info/exclude 2>/dev/null || echo '/.debs/' >> .git/info/exclude
  (cd .debs && apt-get download nginx nginx-common nginx-light libnginx-mod-http-echo \
    libnginx-mod-stream haproxy liblua5.3-0 libopentracing-c-wrapper0 libopentracing1)
  du -sh .debs
  exit 0
fi

out=${1:?usage: benches/device-scaling.sh OUTDIR [PROXY_CORES...] | --fetch-debs}
shift
cores=("$@")
[ ${#cores[@]} -gt 0 ] || cores=(1 4)
mkdir -p "$out"
bin=target/release
total=$(nproc)
echo "$total cores; $(uname -r)" > "$out/host.txt"

# Peers: from the carried .debs when the machine has none (it reaches no package registry).
if ! command -v nginx >/dev/null || ! command -v haproxy >/dev/null; then
  if [ -d .debs ]; then
    for f in .debs/*.deb; do dpkg -x "$f" /; done
    ldconfig 2>/dev/null || true
  fi
fi
for p in nginx haproxy; do
  command -v "$p" >/dev/null || echo "$p: not available (the run skips it)" >> "$out/host.txt"
done

# hawser needs io_uring: `tune check` tries a test ring and says why when it cannot.
"$bin/hawser" tune check > "$out/tune-check.txt" 2>&1 || true
ulimit -n 65536 2>/dev/null || true

for n in "${cores[@]}"; do
  if [ "$n" -ge "$total" ]; then
    echo "proxy cores $n: no cores left for the load side" >> "$out/host.txt"
    continue
  fi
  work=$(mktemp -d)
  # 64 connections per proxy core keep every proxy shard busy; 2 rounds fit the time limit.
  if "$bin/hawser-bench" --quick --repeat 2 --rate-base slowest \
      --proxy-cores "$n" --load-cpus "$n-$((total - 1))" --connections $((64 * n)) \
      --hawser "$bin/hawser" --out "$work" > "$work/log.txt" 2>&1; then
    mkdir -p "$out/proxy$n"
    cp "$work/results.md" "$work/results.json" "$out/proxy$n/"
  else
    echo "proxy cores $n: hawser-bench failed: $(tail -3 "$work/log.txt" | tr '\n' ' ')" \
      >> "$out/host.txt"
  fi
  rm -rf "$work"
done
cat "$out/host.txt"
