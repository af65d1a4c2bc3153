namespace SharpCtdb.Tool;

internal static class Program
{
    public static Task<int> Main(string[] args) => ToolProgram.Main(args);
}
