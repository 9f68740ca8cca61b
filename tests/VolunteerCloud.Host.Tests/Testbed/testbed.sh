#!/usr/bin/env bash
# Real volunteer hosts on one Linux machine (see ../shared/DOCKER-TESTBED.md): N network namespaces vch1..vchN,
# each with its own address 10.201.k.2 and its own dockerd, routed through the main namespace; one local registry
# at 10.201.0.1:5000 holding vc/busybox:1, built here from busybox-static (no registry on the internet is needed).
#
#   testbed.sh up STATE N        bring everything up (idempotent for a fresh STATE)
#   testbed.sh engine-up STATE k   (re)start host k's dockerd
#   testbed.sh engine-down STATE k stop host k's dockerd (kill -9 and its containers with it)
#   testbed.sh down STATE N      stop and remove everything
# Needs root, iproute2, nsenter, iptables, dockerd (docker.io), docker-registry and busybox-static.
set -euo pipefail
cmd=$1 state=$2
registry=10.201.0.1:5000
image=vc/busybox:1

engine_up() {
  local k=$1 d="$state/d$1"
  mkdir -p "$d"
  nsenter --net=/var/run/netns/vch$k dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/docker.pid" \
    -H unix://"$state/d$k.sock" --cgroup-parent=/vc-d$k --insecure-registry $registry >"$d/dockerd.log" 2>&1 &
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
  sysctl -qw net.ipv4.ip_forward=1
  ip addr add 10.201.0.1/32 dev lo 2>/dev/null || true # the registry's address, local to the main namespace
  iptables -I FORWARD -s 10.201.0.0/16 -d 10.201.0.0/16 -j ACCEPT
  for k in $(seq 1 "$n"); do
    ip netns add vch$k
    ip link add vh${k}r type veth peer name vh$k
    ip link set vh$k netns vch$k
    ip addr add 10.201.$k.1/24 dev vh${k}r; ip link set vh${k}r up
    ip netns exec vch$k ip link set lo up
    ip netns exec vch$k ip addr add 10.201.$k.2/24 dev vh$k
    ip netns exec vch$k ip link set vh$k up
    ip netns exec vch$k ip route add default via 10.201.$k.1
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
    rmdir /sys/fs/cgroup/*/vc-d$k 2>/dev/null || true
    ip netns del vch$k 2>/dev/null || true
    ip link del vh${k}r 2>/dev/null || true
  done
  if [ -f "$state/registry.pid" ]; then kill "$(cat "$state/registry.pid")" 2>/dev/null || true; fi
  iptables -D FORWARD -s 10.201.0.0/16 -d 10.201.0.0/16 -j ACCEPT 2>/dev/null || true
  ip addr del 10.201.0.1/32 dev lo 2>/dev/null || true
  rm -rf "$state"
  ;;
*) echo "usage: testbed.sh up|down|engine-up|engine-down STATE N|k" >&2; exit 2 ;;
esac
