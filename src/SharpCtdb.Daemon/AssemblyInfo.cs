// ctdbd is Linux-only (Unix sockets, fcntl locks, SO_PEERCRED).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("SharpCtdb.Daemon.Tests")]
