#!/usr/bin/env python3
"""Floods one volunteer daemon from the local machine: gossip datagrams (junk, forged sealed frames, frames in the
clear, oversized), TCP connections (idle, broken framing, many at once) and API requests (no token, oversized
bodies, many connections). Prints what it sent. Standard library only.

  flood.py <kind> <host> <gossip-port> <api-port> <seconds> [hex key]
  kinds: udp-junk udp-forged udp-plaintext tcp-idle tcp-junk http-unauthorized http-oversized http-idle
"""
import hashlib, os, random, socket, struct, sys, threading, time

kind, host, gport, aport, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
key = bytes.fromhex(sys.argv[6]) if len(sys.argv) > 6 else os.urandom(32)
key_id = hashlib.sha256(key).digest()[:4]
end = time.monotonic() + seconds
rng = random.Random(7)
sent = 0


def udp(make):
    global sent
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    while time.monotonic() < end:
        for _ in range(200):
            try:
                s.sendto(make(), (host, gport))
                sent += 1
            except OSError:
                pass


def many_connections(port, payload, count, hold):
    """Opens up to `count` connections, sends `payload` on each, keeps them open `hold` seconds; repeats until the end."""
    global sent
    while time.monotonic() < end:
        conns = []
        for _ in range(count):
            try:
                c = socket.create_connection((host, port), timeout=2)
                if payload:
                    c.sendall(payload())
                conns.append(c)
                sent += 1
            except OSError:
                pass
            if time.monotonic() >= end:
                break
        time.sleep(min(hold, max(0, end - time.monotonic())))
        for c in conns:
            c.close()


def http_requests(request, workers=16):
    """`workers` threads, each opening a connection per request and reading the status line; counts requests attempted."""
    def work():
        global sent
        while time.monotonic() < end:
            sent += 1  # attempted: the daemon may close the connection before an oversized body is sent
            try:
                with socket.create_connection((host, aport), timeout=5) as c:
                    c.sendall(request())
                    c.recv(64)
            except OSError:
                pass
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


junk = lambda: rng.randbytes(rng.randint(1, 1400))
if kind == "udp-junk":
    udp(junk)
elif kind == "udp-forged":
    # 'V' 'E' keyId nonce(12) ciphertext tag(16): the cluster's key id, so the tag check is what refuses it
    udp(lambda: b"VE" + key_id + rng.randbytes(12) + rng.randbytes(rng.randint(24, 1300)) + rng.randbytes(16))
elif kind == "udp-plaintext":
    udp(lambda: b"VC\x01" + struct.pack("<i", rng.randint(1, 2**31 - 1)) + rng.randbytes(rng.randint(1, 1300)))
elif kind == "tcp-idle":
    many_connections(gport, None, 2000, 5)
elif kind == "tcp-junk":
    # a length prefix announcing a 64 KiB frame, then a trickle: the connection holds nothing until a frame is whole
    many_connections(gport, lambda: struct.pack("<i", 65000) + rng.randbytes(100), 2000, 5)
elif kind == "http-unauthorized":
    http_requests(lambda: f"POST /v1/apps HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/yaml\r\nContent-Length: 40\r\nConnection: close\r\n\r\nservices: {{a: {{image: busybox:1}}}}     ".encode())
elif kind == "http-oversized":
    body = b"x" * (8 << 20)
    http_requests(lambda: f"POST /v1/apps HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {'0' * 64}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body, workers=4)
elif kind == "http-idle":
    many_connections(aport, lambda: b"GET /v1/apps HTTP/1.1\r\nHost: x\r\n", 2000, 5)
else:
    sys.exit(f"flood.py: no kind '{kind}'")
print(f"{kind}: {sent} sent in {seconds:.0f} s")
