using System.Buffers.Binary;

namespace SharpCtdb.Protocol.Tests;

/// <summary>Feeds random, truncated and mutated bytes to every decoder: the only failure allowed is ProtocolException.</summary>
public class RobustnessTests
{
    private const int Seed = 4379;

    private static readonly (string Name, Func<byte[], object> Decode)[] PacketDecoders =
    [
        ("PacketHeader", d => PacketHeader.Read(d)),
        ("ReqControl", d => ReqControl.Decode(d)),
        ("ReplyControl", d => ReplyControl.Decode(d)),
        ("ReqMessage", d => ReqMessage.Decode(d)),
        ("ReqKeepalive", d => ReqKeepalive.Decode(d)),
        ("ReqCall", d => ReqCall.Decode(d)),
        ("ReplyCall", d => ReplyCall.Decode(d)),
        ("ReplyError", d => ReplyError.Decode(d)),
        ("ReqDmaster", d => ReqDmaster.Decode(d)),
        ("ReplyDmaster", d => ReplyDmaster.Decode(d)),
    ];

    private static readonly Func<byte[], object>[] PayloadDecoders =
    [
        d => ControlPayloads.ReadU32(d), d => ControlPayloads.ReadI32(d), d => ControlPayloads.ReadU64(d),
        d => ControlPayloads.ReadF64(d), d => ControlPayloads.ReadString(d) ?? "", d => ControlPayloads.ReadStringStrict(d) ?? "",
        d => ControlPayloads.ReadStringN(d) ?? "", d => ControlPayloads.ReadDbIdPadded(d),
    ];

    /// <summary>Random corruption of a valid encoding: bit flips, random u32 overwrites (lengths/counts), truncation, extension.</summary>
    private static byte[] Mutate(Random rng, byte[] valid)
    {
        var b = valid.ToArray();
        switch (rng.Next(5))
        {
            case 0 when b.Length > 0:
                for (var i = 0; i < 1 + rng.Next(4); i++)
                    b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1 when b.Length >= 4:
                var at = rng.Next(b.Length - 3) & ~3;
                uint[] interesting = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF0, (uint)b.Length, (uint)b.Length + 1, (uint)rng.Next()];
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), interesting[rng.Next(interesting.Length)]);
                return b;
            case 2:
                return b[..rng.Next(b.Length + 1)];
            case 3:
                var extra = new byte[rng.Next(1, 16)];
                rng.NextBytes(extra);
                return [.. b, .. extra];
            default:
                var r = new byte[rng.Next(0, 700)];
                rng.NextBytes(r);
                return r;
        }
    }

    private static void AssertOnlyProtocolException(Func<byte[], object> decode, byte[] input, string what)
    {
        try
        {
            decode(input);
        }
        catch (ProtocolException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} for input {Convert.ToHexString(input)}: {e.Message}");
        }
    }

    [Fact]
    public void DataTypeDecodersOnlyThrowProtocolException()
    {
        var rng = new Random(Seed);
        var rejected = 0;
        foreach (var sample in DataTypeSamples.All)
        {
            for (var i = 0; i < 400; i++)
            {
                var input = Mutate(rng, sample.Encoded);
                try
                {
                    sample.Decode(input);
                }
                catch (ProtocolException)
                {
                    rejected++;
                }
                catch (Exception e)
                {
                    Assert.Fail($"{sample.Name}: {e.GetType().Name} for {Convert.ToHexString(input)}: {e.Message}");
                }
            }
        }
        // The mutations must actually reach the error paths, or this test proves nothing.
        Assert.True(rejected > DataTypeSamples.All.Count * 100, $"only {rejected} inputs were rejected");
    }

    [Fact]
    public void PayloadHelpersOnlyThrowProtocolException()
    {
        var rng = new Random(Seed + 1);
        for (var i = 0; i < 2000; i++)
        {
            var input = new byte[rng.Next(0, 24)];
            rng.NextBytes(input);
            foreach (var d in PayloadDecoders)
                AssertOnlyProtocolException(d, input, "payload");
        }
    }

    [Fact]
    public void PacketDecodersOnlyThrowProtocolException()
    {
        var rng = new Random(Seed + 2);
        var seeds = GoldenRecording.AllFiles().SelectMany(f => GoldenRecording.Load(f).Packets.Select(p => p.Bytes))
            .Where(b => b.Length < 4096).Take(300).ToList();
        seeds.Add(new ReqDmaster(PacketHeader.Create(Operation.ReqDmaster, 1, 0, 5), 7, 3, 1, [1, 2], [3]).Encode());
        seeds.Add(new ReplyDmaster(PacketHeader.Create(Operation.ReplyDmaster, 1, 0, 5), 7, 3, [1, 2], [3]).Encode());
        seeds.Add(new ReplyError(PacketHeader.Create(Operation.ReplyError, 1, 0, 5), -1, "failed").Encode());
        seeds.Add(new ReqKeepalive(PacketHeader.Create(Operation.ReqKeepalive, 1, 0, 0), 1, 2, false).Encode());
        Assert.True(seeds.Count > 100);
        var rejected = 0;
        for (var i = 0; i < 6000; i++)
        {
            var input = Mutate(rng, seeds[rng.Next(seeds.Count)]);
            foreach (var (name, decode) in PacketDecoders)
            {
                try
                {
                    decode(input);
                }
                catch (ProtocolException)
                {
                    rejected++;
                }
                catch (Exception e)
                {
                    Assert.Fail($"{name}: {e.GetType().Name} for {Convert.ToHexString(input)}: {e.Message}");
                }
            }
        }
        Assert.True(rejected > 1000, $"only {rejected} inputs were rejected");
    }

    [Fact]
    public async Task PacketStreamReaderRejectsGarbageWithProtocolException()
    {
        var rng = new Random(Seed + 3);
        var good = GoldenRecording.Load("status").Packets.SelectMany(p => p.Bytes).ToArray();
        var rejected = 0;
        for (var i = 0; i < 300; i++)
        {
            var input = Mutate(rng, good);
            using var ms = new MemoryStream(input);
            var reader = new PacketStreamReader(ms, maxPacketSize: 1 << 20);
            try
            {
                while (await reader.ReadPacketAsync(TestContext.Current.CancellationToken) is { } packet)
                    Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(packet), (uint)packet.Length);
            }
            catch (ProtocolException)
            {
                rejected++;
            }
        }
        Assert.True(rejected > 50, $"only {rejected} streams were rejected");
    }
}
