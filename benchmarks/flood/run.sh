#!/usr/bin/env bash
# Bounded memory under a flood: one volunteer daemon (cluster key set, a real engine in a namespaced host) is flooded
# from the main namespace with gossip datagrams (junk, forged sealed frames, frames in the clear), TCP connections
# (idle, announcing a 64 KiB frame then stalling, 2 000 at once) and API requests (no token, 8 MiB bodies, idle
# connections), each kind for a while. Samples the daemon's resident memory twice a second and reads its drop
# counters (/metrics, vc_frames_dropped_total by reason) after each kind; checks it still answers after each.
# Needs root, docker.io, docker-registry, busybox-static, python3.
#
#   benchmarks/flood/run.sh [seconds per kind=15]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-15}
tb="$root/tests/VolunteerCloud.Host.Tests/Testbed/testbed.sh"
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n")
key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n")
state=$(mktemp -d /tmp/vcflood.XXXX)
cleanup() {
  pkill -KILL -f "$state/vchost/vchost.dll" 2>/dev/null || true
  "$tb" down "$state" 1 >/dev/null 2>&1 || true
}
trap cleanup EXIT

dotnet publish -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true "$root/src/VolunteerCloud.Host" -o "$state/vchost" -v q -nologo >/dev/null
"$tb" up "$state" 1 >/dev/null
key64=$(printf '%s' "$key" | xxd -r -p | base64 -w0)
setsid nsenter --net=/var/run/netns/vc201h1 dotnet "$state/vchost/vchost.dll" --Volunteer:BindAddress 10.201.1.2 \
  --Volunteer:DockerEndpoint "unix://$state/d1.sock" --Volunteer:DataDirectory "$state/h1" --Volunteer:AdminTokens:0 "$token" \
  --Volunteer:Keys:0 "$key64" >"$state/vchost.log" 2>&1 &
disown
for _ in $(seq 1 300); do curl -s -f -m 1 http://10.201.1.2:7947/healthz >/dev/null && break; sleep 0.1; done
pid=$(pgrep -f "$state/vchost/vchost.dll" | head -1)
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status"; }
drops() { curl -s -m 5 -H "Authorization: Bearer $token" http://10.201.1.2:7947/metrics | sed -n 's/^vc_frames_dropped_total{reason="\([a-z_]*\)"} \([0-9]*\)$/\1=\2/p' | grep -v '=0$' | tr '\n' ' '; }

sleep 5
printf '%-18s %10s %12s %12s %8s  %s\n' kind sent rss_before rss_peak_MiB healthy "drops so far (by reason)"
printf '%-18s %10s %12s %12s %8s  %s\n' idle - "$(rss)" "$(rss)" yes "$(drops)"
peak_all=0
for kind in udp-junk udp-forged udp-plaintext tcp-idle tcp-junk http-unauthorized http-oversized http-idle; do
  before=$(rss); peak=$before
  python3 "$root/benchmarks/flood/flood.py" "$kind" 10.201.1.2 7946 7947 "$seconds" "$key" >"$state/flood.out" 2>&1 &
  flooder=$!
  while kill -0 "$flooder" 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.5; done
  wait "$flooder" || true
  healthy=no; curl -s -f -m 5 -H "Authorization: Bearer $token" http://10.201.1.2:7947/v1/apps >/dev/null && healthy=yes
  [ "$peak" -gt "$peak_all" ] && peak_all=$peak
  printf '%-18s %10s %12s %12s %8s  %s\n' "$kind" "$(awk '{print $2}' "$state/flood.out")" "$before" "$peak" "$healthy" "$(drops)"
done
sleep 10
echo "after 10 s quiet: rss $(rss) MiB; peak over every flood $peak_all MiB"
