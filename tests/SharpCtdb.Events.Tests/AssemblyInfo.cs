// The event machinery is Linux-only (process groups, Unix modes and sockets).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
