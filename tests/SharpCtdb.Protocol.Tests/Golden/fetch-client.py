#!/usr/bin/env python3
"""Minimal CTDB client used only to record REPLY_CALL packets that carry data (the ctdb tool never fetches
through the daemon). Connects to $CTDB_SOCKET, sends GET_PNN, then REQ_CALL FETCH_FUNC and
FETCH_WITH_HEADER_FUNC for the given db id and key, and prints the replies' data lengths."""
import os, socket, struct, sys

MAGIC, CURRENT = 0x43544442, 0xF0000001
db_id, key = int(sys.argv[1], 0), sys.argv[2].encode()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["CTDB_SOCKET"])

def send(op, reqid, body):
    pkt = struct.pack("<8I", 32 + len(body), MAGIC, 1, 0, op, CURRENT, 0, reqid) + body
    pkt += b"\0" * (-len(pkt) % 8)
    s.sendall(struct.pack("<I", len(pkt)) + pkt[4:])

def recv():
    hdr = b""
    while len(hdr) < 4:
        hdr += s.recv(4 - len(hdr))
    n = struct.unpack("<I", hdr)[0]
    rest = b""
    while len(rest) < n - 4:
        rest += s.recv(n - 4 - len(rest))
    return hdr + rest

send(7, 1, struct.pack("<IIQIII", 35, 0, 0, 0, 0, 0))
print("pnn", struct.unpack_from("<i", recv(), 32)[0])
for reqid, callid in ((2, 0xFF000002), (3, 0xFF000003)):
    send(0, reqid, struct.pack("<6I", 0, db_id, callid, 0, len(key), 0) + key)
    r = recv()
    print(hex(callid), "status", struct.unpack_from("<i", r, 32)[0], "datalen", struct.unpack_from("<I", r, 36)[0], "len", len(r))
