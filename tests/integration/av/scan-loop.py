#!/usr/bin/env python3
"""Scans FILE... through pmx-avd's socket in a loop until STOPFILE exists, then prints
"scans=N clean=N infected=N unscannable=N errors=N failures=N" (failures: no answer).
    scan-loop.py SOCKET STOPFILE FILE...   (the reload test: no scan may fail meanwhile)"""
import array, os, socket, sys

sock_path, stop, files = sys.argv[1], sys.argv[2], sys.argv[3:]
counts = dict(scans=0, clean=0, infected=0, unscannable=0, errors=0, failures=0)
last_error = ""
while not os.path.exists(stop):
    for f in files:
        counts["scans"] += 1
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(30)
            s.connect(sock_path)
            fd = os.open(f, os.O_RDONLY)
            s.sendmsg([b"SCAN FD\n"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
            os.close(fd)
            line = s.makefile("rb").readline().decode()
            s.close()
        except OSError as e:
            counts["failures"] += 1
            last_error = str(e)
            continue
        word = line.split(" ", 1)[0].strip().lower()
        if word == "error" or word not in counts:
            counts["errors"] += 1
            last_error = line.strip()
        else:
            counts[word] += 1
print(" ".join(f"{k}={v}" for k, v in counts.items()) + (f" last_error={last_error!r}" if last_error else ""))
