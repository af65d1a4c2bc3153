using System.Runtime.CompilerServices;

// The transport tests pause keepalives through an internal hook to imitate a SIGSTOPped node.
[assembly: InternalsVisibleTo("SharpCtdb.Daemon.Tests")]
