namespace SharpCtdb.FakeDaemon;

public static class Program
{
    public static Task<int> Main(string[] args) => FakeDaemonCli.RunAsync(args);
}
