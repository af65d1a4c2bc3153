#!/usr/bin/env python3
"""Minimal CTDB client that sends controls the ctdb tool never sends (or sends only in ways we cannot provoke),
to record the real daemon's replies: error replies, status-carrying replies, GET_ALL_TUNABLES, GET_NODES_FILE,
GET_BAN_STATE, ECHO_DATA, CHECK_PID_SRVID. Connects to $CTDB_SOCKET. Each packet is padded to 8 like the tool."""
import os, socket, struct

MAGIC, CURRENT = 0x43544442, 0xF0000001
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["CTDB_SOCKET"])
reqid = 100

def stringn(t):
    b = t.encode() + b"\0"
    return struct.pack("<I", len(b)) + b

def control(opcode, data=b"", srvid=0, flags=0):
    global reqid
    reqid += 1
    body = struct.pack("<IIQIII", opcode, 0, srvid, 0, flags, len(data)) + data
    pkt = struct.pack("<8I", 0, MAGIC, 1, 0, 7, 0, 0, reqid) + body
    pkt += b"\0" * (-len(pkt) % 8)
    s.sendall(struct.pack("<I", len(pkt)) + pkt[4:])
    while True:
        hdr = s.recv(4, socket.MSG_WAITALL)
        n = struct.unpack("<I", hdr)[0]
        r = hdr + s.recv(n - 4, socket.MSG_WAITALL)
        if struct.unpack_from("<I", r, 16)[0] == 8 and struct.unpack_from("<I", r, 28)[0] == reqid:
            st, dl, el = struct.unpack_from("<iII", r, 32)
            print(opcode, "status", st, "datalen", dl, "errorlen", el, r[44 + dl:44 + dl + el])
            return

control(35)                                        # GET_PNN
control(31)                                        # GET_RECMASTER (obsolete)
control(999)                                       # unknown opcode
control(48, struct.pack("<I", 3) + stringn("MaxRedirectCount"))  # SET_TUNABLE obsolete -> status 1
control(48, struct.pack("<I", 3) + stringn("NoSuchTunable"))     # SET_TUNABLE unknown
control(49, stringn("NoSuchTunable"))              # GET_TUNABLE unknown
control(120, struct.pack("<I", 0x51846878))        # GET_DB_SEQNUM with a wrong size
control(25, struct.pack("<I", 0x12345678))         # GET_DBNAME unknown db
control(53)                                        # GET_ALL_TUNABLES
control(140)                                       # GET_NODES_FILE
control(110)                                       # GET_BAN_STATE
control(15)                                        # GET_RECMODE
control(156, struct.pack("<I", 0) + struct.pack("<I", 5) + b"hello")  # ECHO_DATA
control(151, struct.pack("<iQ", os.getpid(), 0xAE00000000000001))  # CHECK_PID_SRVID (not registered)
control(23, srvid=0xAE00000000000001)              # REGISTER_SRVID
control(151, struct.pack("<iQ", os.getpid(), 0xAE00000000000001))  # CHECK_PID_SRVID (registered)
control(0, struct.pack("<i", os.getpid()))         # PROCESS_EXISTS (self)
control(4, struct.pack("<I", 0x51846878))          # GETDBPATH
