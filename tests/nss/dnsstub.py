#!/usr/bin/env python3
"""dnsstub.py -- test DNS server on 127.0.0.1:53: answers every A/AAAA
question with one fixed documentation address (192.0.2.99, 2001:db8::99),
so a test sees whether a lookup reached plain DNS, and logs each name asked.

Usage: dnsstub.py LOGFILE  (run inside the test's own network namespace)
"""
import socket
import struct
import sys

ANSWERS = {
    1: socket.inet_pton(socket.AF_INET, "192.0.2.99"),
    28: socket.inet_pton(socket.AF_INET6, "2001:db8::99"),
}


def question(msg):
    """Returns (name, qtype, question bytes) or None for a malformed query."""
    i, labels = 12, []
    while i < len(msg) and msg[i] != 0:
        n = msg[i]
        if n > 63 or i + 1 + n > len(msg):
            return None
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 5 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[i + 1:i + 3])[0]
    return ".".join(labels).lower(), qtype, msg[12:i + 5]


def main():
    log = open(sys.argv[1], "a", buffering=1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 53))
    log.write("listening\n")
    while True:
        msg, peer = s.recvfrom(4096)
        if len(msg) < 12:
            continue
        q = question(msg)
        if q is None:
            continue
        name, qtype, qbytes = q
        log.write("query %s %d\n" % (name, qtype))
        rdata = ANSWERS.get(qtype)
        qid = struct.unpack("!H", msg[:2])[0]
        hdr = struct.pack("!HHHHHH", qid, 0x8180, 1, 1 if rdata else 0, 0, 0)
        ans = b""
        if rdata:
            ans = struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata
        s.sendto(hdr + qbytes + ans, peer)


if __name__ == "__main__":
    main()
