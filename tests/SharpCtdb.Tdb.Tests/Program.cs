[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace SharpCtdb.Tdb.Tests;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == TdbChildProcess.Marker)
            return TdbChildProcess.RunChild(args);
        // Same dispatch as xunit's generated entry point.
        if (args.Any(arg => arg is "--server" or "--internal-msbuild-node"))
            return Xunit.MicrosoftTestingPlatform.TestPlatformTestFramework.RunAsync(args, SelfRegisteredExtensions.AddSelfRegisteredExtensions).GetAwaiter().GetResult();
        return Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
    }
}
