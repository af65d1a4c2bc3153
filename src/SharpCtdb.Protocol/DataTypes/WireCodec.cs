namespace SharpCtdb.Protocol;

/// <summary>A wire data type: written into a <see cref="WireWriter"/> and read back from a <see cref="WireReader"/>.</summary>
public interface IWireType<TSelf> where TSelf : IWireType<TSelf>
{
    void Write(WireWriter w);

    static abstract TSelf Read(ref WireReader r);
}

/// <summary>Shared ToBytes/FromBytes plumbing for the wire data types.</summary>
public static class WireCodec
{
    public static byte[] ToBytes<T>(T value) where T : IWireType<T>
    {
        var w = new WireWriter();
        value.Write(w);
        return w.ToArray();
    }

    /// <summary>Decodes exactly one value; trailing bytes are an error because control payloads have exact sizes.</summary>
    public static T FromBytes<T>(ReadOnlySpan<byte> data) where T : IWireType<T>
    {
        var r = new WireReader(data);
        var value = T.Read(ref r);
        if (r.Remaining != 0)
            throw new ProtocolException($"{typeof(T).Name}: {r.Remaining} unexpected trailing bytes after {r.Position}");
        return value;
    }

    /// <summary>Reads a u32 count followed by that many elements, rejecting counts the remaining bytes cannot hold.</summary>
    public static T[] ReadArray<T>(ref WireReader r, int minElementSize) where T : IWireType<T>
    {
        var n = r.Count(minElementSize);
        return ReadElements<T>(ref r, n);
    }

    public static T[] ReadElements<T>(ref WireReader r, int count) where T : IWireType<T>
    {
        var items = new T[count];
        for (var i = 0; i < count; i++)
            items[i] = T.Read(ref r);
        return items;
    }

    public static void WriteArray<T>(WireWriter w, IReadOnlyList<T> items) where T : IWireType<T>
    {
        w.U32((uint)items.Count);
        foreach (var item in items)
            item.Write(w);
    }

    /// <summary>Fluent form of <see cref="WriteArray{T}"/> for use after other writes.</summary>
    public static void WriteArrayAfter<T>(WireWriter w, IReadOnlyList<T> items) where T : IWireType<T> => WriteArray(w, items);

    /// <summary>Reads a fixed number of u32s (e.g. histogram buckets).</summary>
    public static uint[] ReadU32s(ref WireReader r, int count)
    {
        var values = new uint[count];
        for (var i = 0; i < count; i++)
            values[i] = r.U32();
        return values;
    }

    /// <summary>Writes exactly <paramref name="count"/> u32s: missing entries are zero, extra entries are an error.</summary>
    public static void WriteU32s(WireWriter w, IReadOnlyList<uint> values, int count, string what)
    {
        if (values.Count > count)
            throw new ProtocolException($"{what}: {values.Count} values do not fit in {count} slots");
        for (var i = 0; i < count; i++)
            w.U32(i < values.Count ? values[i] : 0);
    }
}
