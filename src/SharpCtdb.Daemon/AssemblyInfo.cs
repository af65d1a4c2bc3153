// ctdbd is Linux-only (Unix sockets, fcntl locks, SO_PEERCRED).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
