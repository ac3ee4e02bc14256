#!/usr/bin/env bash
# Captures, on a machine with an NVIDIA GPU, exactly the commands `gitops hardware probe` runs,
# with their exit codes and wall times, so the real parsers can be checked against live output.
set -u
out="${OUT:-./out}"; mkdir -p "$out"
export LC_ALL=C LANG=C
F=index,name,pci.bus_id,driver_version,memory.total,memory.used,temperature.gpu,power.draw,utilization.gpu
run() { # name, command...
  local name=$1; shift
  local t0=$(date +%s%N)
  "$@" >"$out/$name.stdout" 2>"$out/$name.stderr"; local rc=$?
  local t1=$(date +%s%N)
  echo "$name exit=$rc ms=$(( (t1 - t0) / 1000000 ))" | tee -a "$out/runs.txt"
}
run query nvidia-smi --query-gpu=$F --format=csv,noheader,nounits
run table nvidia-smi
run query-minimal nvidia-smi --query-gpu=index,name,driver_version,memory.total,memory.used --format=csv,noheader,nounits
run query-header nvidia-smi --query-gpu=$F --format=csv
run bad-field nvidia-smi --query-gpu=index,not_a_field --format=csv,noheader,nounits
run q nvidia-smi -q
run proc-version cat /proc/driver/nvidia/version
run dev-nodes ls -l /dev/nvidia0 /dev/nvidiactl
run meminfo cat /proc/meminfo
for t in v4l2-ctl lsusb vainfo ffprobe tegrastats; do command -v $t >/dev/null && echo "$t present" || echo "$t missing"; done | tee "$out/tools.txt"
t0=$(date +%s%N); nvidia-smi --query-gpu=$F --format=csv,noheader,nounits >/dev/null 2>&1; nvidia-smi >/dev/null 2>&1; t1=$(date +%s%N)
echo "probe-sequence ms=$(( (t1 - t0) / 1000000 ))" | tee -a "$out/runs.txt"
# One file back: every capture as a "## name" section, stdout then stderr, then its exit line.
{
  for f in query table query-minimal query-header bad-field q proc-version dev-nodes meminfo; do
    echo "## $f"; cat "$out/$f.stdout"; [ -s "$out/$f.stderr" ] && { echo "## $f (stderr)"; cat "$out/$f.stderr"; }
    grep "^$f exit=" "$out/runs.txt" | sed 's/^[^ ]* //'
  done
  echo "## tools"; cat "$out/tools.txt"
  echo "## timings"; cat "$out/runs.txt"
} > "$out/bundle.txt.tmp"
rm -f "$out"/*.stdout "$out"/*.stderr "$out/runs.txt" "$out/tools.txt"
mv "$out/bundle.txt.tmp" "$out/bundle.txt"
