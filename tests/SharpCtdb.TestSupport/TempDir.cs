namespace SharpCtdb.TestSupport;

/// <summary>Removal of test directories.</summary>
public static class TempDirs
{
    /// <summary>
    /// Deletes <paramref name="dir"/> recursively, retrying for a few seconds: a process that has just been killed (or
    /// one of its children) may still be creating files in it, and a single Directory.Delete then fails with
    /// "Directory not empty" and leaves the directory behind. True when it is gone.
    /// </summary>
    public static async Task<bool> DeleteAsync(string dir)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(dir))
                    Directory.Delete(dir, recursive: true);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (attempt >= 50)
                    return false;
            }
            await Task.Delay(100);
        }
    }
}
