// CTDB is Linux-only: process groups, Unix modes and Unix sockets are used throughout.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
