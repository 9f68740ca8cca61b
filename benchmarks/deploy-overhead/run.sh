#!/usr/bin/env bash
# Deploy overhead on real engines: the time from a deploy through one node's HTTP API to the replica's container
# starting (wherever the steward placed it), against `docker run -d` of the same container (image, limits, pids
# limit, capabilities, no-new-privileges) on that same engine.
# Both are timed from just before the call to the engine's own "start" event (docker events, nanoseconds), so
# both sides are measured the same way. Four namespaced hosts from the test bed; images pre-pulled on every
# engine, so neither side pays a pull. Needs root, docker.io, docker-registry, busybox-static.
#
#   benchmarks/deploy-overhead/run.sh [runs=20] [warmup=8]
# Warm-up runs (not counted) first, as BenchmarkDotNet would; the two sides alternate which goes first.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-20}
warmup=${2:-8}
tb="$root/tests/VolunteerCloud.Host.Tests/Testbed/testbed.sh"
image=10.201.0.1:5000/vc/busybox:1
token=$(openssl rand -hex 32 2>/dev/null || head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n")
state=$(mktemp -d /tmp/vcbench.XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  pkill -KILL -f "$state/vchost/vchost.dll" 2>/dev/null || true
  if [ -z "${KEEP:-}" ]; then "$tb" down "$state" 4 >/dev/null 2>&1 || true; else echo "kept $state (testbed.sh down $state 4)"; fi
}
trap cleanup EXIT

# Published as a volunteer installs it (README): Release, ReadyToRun, so no JIT work lands in the timings.
dotnet publish -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true "$root/src/VolunteerCloud.Host" -o "$state/vchost" -v q -nologo >/dev/null
"$tb" up "$state" 4
for k in 1 2 3 4; do
  docker -H "unix://$state/d$k.sock" pull -q "$image" >/dev/null
  docker -H "unix://$state/d$k.sock" events --filter event=start \
    --format '{{.TimeNano}} {{index .Actor.Attributes "name"}} {{index .Actor.Attributes "volunteercloud.app"}}' >"$state/events$k" &
  pids+=($!)
  disown
done
for k in 1 2 3 4; do
  setsid nsenter --net=/var/run/netns/vc201h$k dotnet "$state/vchost/vchost.dll" --Volunteer:BindAddress 10.201.$k.2 \
    --Volunteer:DockerEndpoint "unix://$state/d$k.sock" --Volunteer:Seeds:0 10.201.1.2:7946 --Volunteer:DataDirectory "$state/h$k" --Volunteer:AdminTokens:0 "$token" --Volunteer:CpuShare 1 --Volunteer:MemoryMegabytes 4096 \
    >"$state/vchost$k.log" 2>&1 &
  disown
done
for _ in $(seq 1 300); do
  [ "$(curl -s -m 1 http://10.201.1.2:7947/v1/members | grep -o '"state":"alive"' | wc -l)" -eq 4 ] && break
  sleep 0.1
done

now() { date +%s%N; }
wait_start() { # pattern → "time engine"
  for _ in $(seq 1 3000); do
    for k in 1 2 3 4; do
      line=$(grep -m1 -E "$1" "$state/events$k" || true)
      if [ -n "$line" ]; then echo "${line%% *} $k"; return 0; fi
    done
    sleep 0.005
  done
  echo "no start event for $1" >&2; return 1
}

deploy_api() { # app → "ms engine"
  local t0 t1 k
  t0=$(now)
  curl -s -f -X POST -H "Authorization: Bearer $token" --data-binary "services: {$1: {image: \"$image\", command: [sleep, \"3600\"], deploy: {resources: {limits: {cpus: \"0.1\", memory: 16M}}}}}" \
    http://10.201.1.2:7947/v1/apps >/dev/null
  read -r t1 k < <(wait_start " $1\$")
  echo "$(( (t1 - t0) / 1000000 )) $k"
}
run_cli() { # name engine → ms
  local t0 t1
  t0=$(now)
  # the same container the daemon asks the engine for: limits, pids limit, capabilities, no-new-privileges
  docker -H "unix://$state/d$2.sock" run -d --name "$1" -m 16m --memory-swap 16m --cpus 0.1 --pids-limit 256 \
    --cap-drop ALL --cap-add CHOWN --cap-add SETUID --cap-add SETGID --cap-add NET_BIND_SERVICE --cap-add KILL \
    --cap-add DAC_OVERRIDE --cap-add FOWNER --security-opt no-new-privileges --restart no "$image" sleep 3600 >/dev/null
  read -r t1 _ < <(wait_start " $1 ")
  echo "$(( (t1 - t0) / 1000000 ))"
}

for i in $(seq 1 "$warmup"); do
  read -r _ k < <(deploy_api "w$i")
  run_cli "wd$i" "$k" >/dev/null
done

api=() cli=()
printf 'run  api_ms  docker_run_ms  engine\n'
for i in $(seq 1 "$runs"); do
  if [ $((i % 2)) -eq 1 ]; then
    read -r a k < <(deploy_api "b$i")
    c=$(run_cli "d$i" "$k")
  else
    k=$(( (i / 2) % 4 + 1 ))
    c=$(run_cli "d$i" "$k")
    read -r a k2 < <(deploy_api "b$i")
    if [ "$k2" != "$k" ]; then k="$k/$k2"; fi
  fi
  api+=("$a") cli+=("$c")
  printf '%3d  %6d  %13d  %6s\n' "$i" "$a" "$c" "$k"
  # untimed clean-up, so every pair meets the same, lightly loaded engines
  curl -s -X DELETE -H "Authorization: Bearer $token" "http://10.201.1.2:7947/v1/apps/b$i" >/dev/null
  docker -H "unix://$state/d${k%%/*}.sock" rm -f "d$i" >/dev/null
  sleep 1
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
ma=$(median "${api[@]}") mc=$(median "${cli[@]}")
echo "median: API deploy to container started ${ma} ms, docker run -d ${mc} ms, ratio $(awk -v a="$ma" -v c="$mc" 'BEGIN {printf "%.2f", a/c}') (goal <= 1.2)"
diffs=(); for j in "${!api[@]}"; do diffs+=($(( api[j] - cli[j] ))); done
echo "median paired difference (api - docker run): $(median "${diffs[@]}") ms over $runs pairs"
