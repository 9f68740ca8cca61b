#!/usr/bin/env bash
# Real volunteer hosts on one Linux machine: N network namespaces vc<NET>h1..vc<NET>hN, each with its own address
# 10.<NET>.k.2 and its own dockerd, routed through the main namespace; one local registry at 10.<NET>.0.1:5000 holding
# vc/busybox:1, built here from busybox-static (no registry on the internet is needed).
#
# NET (VCTB_NET, default 201) keeps testbeds apart: the test fixture takes a free one per run (holding a lock on
# /run/vctb/NET.lock while it lives), so two runs on one machine never share names, addresses or firewall rules.
#
#   testbed.sh up STATE N          bring everything up (idempotent for a fresh STATE)
#   testbed.sh engine-up STATE k   (re)start host k's dockerd
#   testbed.sh engine-down STATE k stop host k's dockerd (kill -9 and its containers with it)
#   testbed.sh down STATE N        stop and remove everything
#   testbed.sh sweep               remove what runs that died left (testbeds whose lock no process holds)
# Needs root, iproute2, nsenter, iptables, dockerd (docker.io), docker-registry and busybox-static.
set -euo pipefail
cmd=$1 state=${2:-}
net=${VCTB_NET:-201}
case "$net" in ''|*[!0-9]*) echo "VCTB_NET must be a number in 2..254, not '$net'" >&2; exit 2 ;; esac
registry=10.$net.0.1:5000
image=vc/busybox:1
ns() { echo "vc${net}h$1"; }

engine_up() {
  local k=$1 d="$state/d$1"
  mkdir -p "$d"
  nsenter --net=/var/run/netns/$(ns $k) dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/docker.pid" \
    -H unix://"$state/d$k.sock" --cgroup-parent=/vc$net-d$k --insecure-registry $registry >"$d/dockerd.log" 2>&1 &
  for _ in $(seq 1 100); do
    docker -H unix://"$state/d$k.sock" version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "dockerd of host $k did not start; its log:" >&2; tail -20 "$d/dockerd.log" >&2; return 1
}

engine_down() {
  local k=$1 d="$state/d$1" signal=${2:-KILL}
  if [ -f "$d/docker.pid" ]; then
    local pid; pid=$(cat "$d/docker.pid")
    # kill -9 the engine and the shims of its containers: the host is gone, as when a laptop is closed
    pkill -$signal -f "containerd-shim.*$d/exec" 2>/dev/null || true
    kill -$signal "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    pkill -KILL -f "containerd.*$d/exec" 2>/dev/null || true
    rm -f "$d/docker.pid"
  fi
  umount "$d/exec/netns/default" 2>/dev/null || true
  for m in $(grep -o "$d/[^ ]*" /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
}

case "$cmd" in
up)
  n=$3
  mkdir -p "$state"
  echo "$net" >"$state/net"
  sysctl -qw net.ipv4.ip_forward=1
  ip addr add 10.$net.0.1/32 dev lo 2>/dev/null || true # the registry's address, local to the main namespace
  iptables -I FORWARD -s 10.$net.0.0/16 -d 10.$net.0.0/16 -j ACCEPT -m comment --comment "vctb-$net"
  for k in $(seq 1 "$n"); do
    h=$(ns $k)
    ip netns add $h
    ip link add ${h}r type veth peer name $h
    ip link set $h netns $h
    ip addr add 10.$net.$k.1/24 dev ${h}r; ip link set ${h}r up
    ip netns exec $h ip link set lo up
    ip netns exec $h ip addr add 10.$net.$k.2/24 dev $h
    ip netns exec $h ip link set $h up
    ip netns exec $h ip route add default via 10.$net.$k.1
    engine_up "$k"
  done
  cat >"$state/registry.yml" <<YML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $state/registry } }
http: { addr: $registry }
YML
  docker-registry serve "$state/registry.yml" >"$state/registry.log" 2>&1 &
  echo $! >"$state/registry.pid"
  rootfs="$state/rootfs"
  mkdir -p "$rootfs/bin" "$rootfs/www"
  cp "$(command -v busybox)" "$rootfs/bin/"
  for c in sh httpd echo sleep cat ls wget nc hostname mkdir; do ln -sf busybox "$rootfs/bin/$c"; done
  echo "volunteercloud" >"$rootfs/www/index.html"
  tar -C "$rootfs" -c . | docker -H unix://"$state/d1.sock" import - $image >/dev/null
  docker -H unix://"$state/d1.sock" tag $image $registry/$image
  for _ in $(seq 1 50); do
    docker -H unix://"$state/d1.sock" push $registry/$image >/dev/null 2>&1 && break
    sleep 0.2
  done
  docker -H unix://"$state/d1.sock" rmi $registry/$image $image >/dev/null
  echo "testbed up: $n hosts, registry $registry, image $registry/$image"
  ;;
engine-up) engine_up "$3" ;;
engine-down) engine_down "$3" "${4:-KILL}" ;;
down)
  n=$3
  for k in $(seq 1 "$n"); do
    engine_down "$k" TERM || true
    rmdir /sys/fs/cgroup/*/vc$net-d$k 2>/dev/null || true
    ip netns pids "$(ns $k)" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$(ns $k)" 2>/dev/null || true
    ip link del "$(ns $k)r" 2>/dev/null || true
  done
  if [ -f "$state/registry.pid" ]; then kill "$(cat "$state/registry.pid")" 2>/dev/null || true; fi
  # every rule this testbed added: its FORWARD accept and any partition a test left (both carry its comment)
  { iptables -S FORWARD | grep -e "vctb-$net\b" -e "vc$net-partition" || true; } | sed 's/^-A //' | while read -r rule; do
    eval "iptables -D $rule" 2>/dev/null || true
  done
  ip addr del 10.$net.0.1/32 dev lo 2>/dev/null || true
  rm -rf "$state"
  ;;
sweep)
  # Testbeds of runs that died: a namespace vc<NET>h<k> whose /run/vctb/NET.lock no live process holds.
  mkdir -p /run/vctb
  for n in $(ip netns list 2>/dev/null | sed -n 's/^vc\([0-9]*\)h[0-9]*.*/\1/p' | sort -u); do
    if flock -n "/run/vctb/$n.lock" true 2>/dev/null; then
      hosts=$(ip netns list | grep -c "^vc${n}h" || true)
      for st in /tmp/vctb-*; do [ -f "$st/net" ] && [ "$(cat "$st/net")" = "$n" ] && stale=$st; done
      VCTB_NET=$n "$0" down "${stale:-/tmp/vctb-stale-$n}" "$hosts" || true
      pkill -KILL -f "docker-registry serve ${stale:-/nonexistent}/" 2>/dev/null || true
      echo "swept testbed $n ($hosts hosts)"
    fi
  done
  ;;
*) echo "usage: testbed.sh up|down|engine-up|engine-down STATE N|k, or testbed.sh sweep (VCTB_NET picks the testbed)" >&2; exit 2 ;;
esac
