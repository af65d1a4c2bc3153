using System.Text;
using SharpCtdb.Protocol;

namespace SharpCtdb.Tdb.Tests;

public class JenkinsHashTests
{
    [Theory]
    [InlineData("locking.tdb", 0x7a19d84du)]
    [InlineData("brlock.tdb", 0x4e66c2b2u)]
    [InlineData("g_lock.tdb", 0x4d2a432bu)]
    [InlineData("secrets.tdb", 0x7132c184u)]
    [InlineData("registry.tdb", 0x6cf2837du)]
    // Observed on the real 4.17 cluster (ctdb getdbmap).
    [InlineData("foo.tdb", 0x88127240u)]
    [InlineData("bar.tdb", 0xc36f2793u)]
    [InlineData("rep.tdb", 0x64c8480eu)]
    public void DatabaseIdsMatchCtdb(string name, uint expected) => Assert.Equal(expected, DatabaseId.FromName(name));

    [Fact]
    public void DatabaseIdIncludesTheTrailingNul()
    {
        Assert.Equal(0x72c91e9eu, JenkinsHash.HashLittle("locking.tdb"u8));
        Assert.Equal(0x7a19d84du, JenkinsHash.HashLittle("locking.tdb\0"u8));
    }

    [Fact]
    public void KnownLookup3Values()
    {
        // Published lookup3 self-test values.
        Assert.Equal(0xdeadbeefu, JenkinsHash.HashLittle([]));
        Assert.Equal(0x17770551u, JenkinsHash.HashLittle("Four score and seven years ago"u8));
        Assert.Equal(0xcd628161u, JenkinsHash.HashLittle("Four score and seven years ago"u8, 1));
    }

    [Fact]
    public void MatchesLibtdbForEveryLengthAndAlignment()
    {
        var random = new Random(4242);
        var buffer = new byte[300];
        random.NextBytes(buffer);
        for (var length = 0; length <= 100; length++)
        {
            for (var offset = 0; offset < 4; offset++)
            {
                var data = buffer.AsSpan(offset, length);
                Assert.Equal(TdbFile.NativeJenkinsHash(data), JenkinsHash.HashLittle(data));
            }
        }
        Assert.Equal(TdbFile.NativeJenkinsHash(buffer), JenkinsHash.HashLittle(buffer));
    }

    [Fact]
    public void LmasterPicksMapEntryByHashModuloSize()
    {
        uint[] map = [0, 1, 2];
        var seen = new HashSet<uint>();
        for (var i = 0; i < 50; i++)
        {
            var key = Encoding.ASCII.GetBytes($"key-{i}");
            var expected = map[TdbFile.NativeJenkinsHash(key) % 3];
            Assert.Equal(expected, DatabaseId.Lmaster(key, map));
            Assert.Equal(expected, DatabaseId.Lmaster(key, new VnnMap(7, map)));
            seen.Add(expected);
        }
        Assert.Equal(3, seen.Count);
        Assert.Equal(5u, DatabaseId.Lmaster("anything"u8, [5u]));
        Assert.Throws<ArgumentException>(() => DatabaseId.Lmaster("k"u8, ReadOnlySpan<uint>.Empty));
    }
}
