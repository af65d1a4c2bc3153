#!/bin/bash
# Run while capturing node-to-node traffic: launch an already set-up cluster whose ctdb.conf files have no
# cluster lock, so that the nodes hold a classic election (CTDB_SRVID_ELECTION messages) at start-up.
# Run from the repository root (the anchors are in ../shared beside it).
exec ../shared/anchors/ctdb-real/cluster.sh launch
