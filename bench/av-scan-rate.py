#!/usr/bin/env python3
"""Scans per second straight to pmx-avd: N unique 4 KiB messages (so libclamav's clean
cache never answers), 1 and 4 concurrent clients, inline (SCAN BYTES) and by fd (memfd,
SCAN FD); next to PING round trips per second, the protocol's own cost, as the baseline.
    av-scan-rate.py SOCKET [N]"""
import array, os, socket, sys, threading, time

sock_path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000

def message(i):
    body = ("Line %d of a plain message with some words in it to scan.\n" % i) * 64
    return (f"From: a@example.test\nTo: b@example.test\nSubject: bench {i}\nMessage-ID: <{i}.{time.time()}@bench>\n\n"
            + body)[:4096].encode()

def exchange(payload, fd=None):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    if fd is None:
        s.sendall(payload)
    else:
        s.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
    line = s.makefile("rb").readline()
    s.close()
    return line

def run(kind, clients, total):
    msgs = [message(i + int(time.time() * 1000) % 1000000 * 10000) for i in range(total)]
    errors = [0]
    def work(part):
        for m in part:
            if kind == "ping":
                r = exchange(b"PING\n")
                ok = r == b"PONG\n"
            elif kind == "inline":
                r = exchange(b"SCAN BYTES %d\n" % len(m) + m)
                ok = r == b"CLEAN\n"
            else:
                fd = os.memfd_create("bench")
                os.write(fd, m)
                r = exchange(b"SCAN FD\n", fd)
                os.close(fd)
                ok = r == b"CLEAN\n"
            if not ok:
                errors[0] += 1
    parts = [msgs[i::clients] for i in range(clients)]
    t0 = time.time()
    threads = [threading.Thread(target=work, args=(p,)) for p in parts]
    for t in threads: t.start()
    for t in threads: t.join()
    return total / (time.time() - t0), errors[0]

ping, _ = run("ping", 1, n)
print(f"{'request':<16} {'clients':>7} {'per_s':>10} {'ratio_to_ping':>14} {'errors':>7}")
print(f"{'PING (baseline)':<16} {1:>7} {ping:>10.0f} {1.0:>14.2f} {0:>7}")
for kind in ("inline", "fd"):
    for clients in (1, 4):
        rate, err = run(kind, clients, n)
        print(f"{'SCAN ' + kind:<16} {clients:>7} {rate:>10.0f} {rate / ping:>14.2f} {err:>7}")
