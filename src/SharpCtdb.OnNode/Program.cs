namespace SharpCtdb.OnNode;

internal static class Program
{
    public static Task<int> Main(string[] args) => OnNodeProgram.Main(args);
}
