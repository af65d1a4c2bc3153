namespace SharpCtdb.Protocol;

/// <summary>
/// rec_data: u32 total length (16 + keylen + datalen), u32 reqid, u32 keylen, u32 datalen, key, data.
/// When a record carries an ltdb header (traverse data, TRANS3_COMMIT, push/pull, ...), the 24-byte header is the
/// start of <see cref="Data"/>; use <see cref="WithHeader"/> / <see cref="TrySplitHeader"/> for that form.
/// </summary>
public sealed record RecData(uint ReqId, byte[] Key, byte[] Data) : IWireType<RecData>
{
    public const int FixedSize = 16;

    public int WireLength => FixedSize + Key.Length + Data.Length;

    /// <summary>The end-of-traverse marker has an empty key and empty data.</summary>
    public bool IsEndMarker => Key.Length == 0 && Data.Length == 0;

    public static RecData WithHeader(uint reqId, byte[] key, LtdbHeader header, ReadOnlySpan<byte> value)
    {
        var w = new WireWriter(LtdbHeader.Size + value.Length);
        header.Write(w);
        w.Bytes(value);
        return new RecData(reqId, key, w.ToArray());
    }

    /// <summary>Splits <see cref="Data"/> into ltdb header and value; false if it is shorter than a header.</summary>
    public bool TrySplitHeader(out LtdbHeader header, out byte[] value)
    {
        if (Data.Length < LtdbHeader.Size)
        {
            header = new LtdbHeader(0, 0);
            value = [];
            return false;
        }
        header = LtdbHeader.FromBytes(Data.AsSpan(0, LtdbHeader.Size));
        value = Data[LtdbHeader.Size..];
        return true;
    }

    public void Write(WireWriter w) =>
        w.U32((uint)WireLength).U32(ReqId).U32((uint)Key.Length).U32((uint)Data.Length).Bytes(Key).Bytes(Data);

    public static RecData Read(ref WireReader r)
    {
        var start = r.Position;
        var length = r.U32();
        var reqid = r.U32();
        var keylen = r.U32();
        var datalen = r.U32();
        if ((ulong)keylen + datalen > (ulong)r.Remaining)
            throw new ProtocolException($"rec_data key {keylen} + data {datalen} exceed remaining {r.Remaining} bytes");
        var key = r.Bytes((int)keylen).ToArray();
        var data = r.Bytes((int)datalen).ToArray();
        var consumed = (ulong)(r.Position - start);
        // The length field may exceed the content (alignment slack); it may never be smaller.
        if (length < consumed)
            throw new ProtocolException($"rec_data length {length} is smaller than its content ({consumed})");
        if (length > consumed)
        {
            var slack = length - consumed;
            if (slack > (ulong)r.Remaining)
                throw new ProtocolException($"rec_data length {length} exceeds the buffer");
            r.Skip((int)slack);
        }
        return new RecData(reqid, key, data);
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static RecData FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<RecData>(data);
}

/// <summary>rec_buffer: u32 db_id, u32 count, then count rec_data back to back.</summary>
public sealed record RecBuffer(uint DbId, IReadOnlyList<RecData> Records) : IWireType<RecBuffer>
{
    public void Write(WireWriter w) => WireCodec.WriteArrayAfter(w.U32(DbId), Records);

    public static RecBuffer Read(ref WireReader r)
    {
        var db = r.U32();
        return new RecBuffer(db, WireCodec.ReadArray<RecData>(ref r, RecData.FixedSize));
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static RecBuffer FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<RecBuffer>(data);
}

/// <summary>Legacy event script result (584 bytes): char name[32], timeval start, timeval finished, i32 status, char output[512], pad 4.</summary>
public sealed record ScriptInfo(string Name, Timeval Start, Timeval Finished, int Status, string Output) : IWireType<ScriptInfo>
{
    public const int Size = 584;
    public const int NameSize = 32;
    public const int OutputSize = 512;

    public void Write(WireWriter w)
    {
        w.FixedString(Name, NameSize);
        Start.Write(w);
        Finished.Write(w);
        w.I32(Status).FixedString(Output, OutputSize).U32(0);
    }

    public static ScriptInfo Read(ref WireReader r)
    {
        var name = r.FixedString(NameSize);
        var start = Timeval.Read(ref r);
        var finished = Timeval.Read(ref r);
        var status = r.I32();
        var output = r.FixedString(OutputSize);
        r.Skip(4);
        return new ScriptInfo(name, start, finished, status, output);
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static ScriptInfo FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<ScriptInfo>(data);
}

/// <summary>Legacy script_list: u32 num_scripts, pad 4, script[num]. An empty list is sent as zero bytes.</summary>
public sealed record ScriptList(IReadOnlyList<ScriptInfo> Scripts) : IWireType<ScriptList>
{
    public void Write(WireWriter w)
    {
        if (Scripts.Count == 0)
            return;
        w.U32((uint)Scripts.Count).U32(0);
        foreach (var s in Scripts)
            s.Write(w);
    }

    public static ScriptList Read(ref WireReader r)
    {
        if (r.Remaining == 0)
            return new ScriptList([]);
        var n = r.U32();
        r.Skip(4);
        if (n > (uint)(r.Remaining / ScriptInfo.Size))
            throw new ProtocolException($"script_list count {n} exceeds remaining {r.Remaining} bytes");
        return new ScriptList(WireCodec.ReadElements<ScriptInfo>(ref r, (int)n));
    }

    public byte[] ToBytes() => WireCodec.ToBytes(this);

    public static ScriptList FromBytes(ReadOnlySpan<byte> data) => WireCodec.FromBytes<ScriptList>(data);
}
