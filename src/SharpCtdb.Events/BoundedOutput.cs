using System.Text;

namespace SharpCtdb.Events;

/// <summary>
/// Collects a script's output with a fixed memory bound: the first half of the limit is kept verbatim, then only
/// the most recent bytes (a ring). A script printing megabytes therefore costs at most <c>limit</c> bytes, and the
/// status shows both how it started and how it ended.
/// </summary>
public sealed class BoundedOutput
{
    private readonly byte[] _head;
    private readonly byte[] _tail;
    private int _headLength;
    private int _tailStart;
    private int _tailLength;
    private readonly Lock _lock = new();

    public BoundedOutput(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 2);
        _head = new byte[limit / 2];
        _tail = new byte[limit - (limit / 2)];
    }

    /// <summary>Every byte ever appended, kept or not.</summary>
    public long TotalBytes { get; private set; }

    public bool Truncated => TotalBytes > _head.Length + _tail.Length;

    public void Append(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            TotalBytes += data.Length;
            var toHead = Math.Min(_head.Length - _headLength, data.Length);
            data[..toHead].CopyTo(_head.AsSpan(_headLength));
            _headLength += toHead;
            data = data[toHead..];
            if (data.Length >= _tail.Length)
            {
                data[^_tail.Length..].CopyTo(_tail);
                _tailStart = 0;
                _tailLength = _tail.Length;
                return;
            }
            foreach (var b in data)
            {
                var pos = (_tailStart + _tailLength) % _tail.Length;
                _tail[pos] = b;
                if (_tailLength < _tail.Length)
                    _tailLength++;
                else
                    _tailStart = (_tailStart + 1) % _tail.Length;
            }
        }
    }

    /// <summary>The kept text; when bytes were dropped a marker line says how many.</summary>
    public override string ToString()
    {
        lock (_lock)
        {
            var tail = new byte[_tailLength];
            for (var i = 0; i < _tailLength; i++)
                tail[i] = _tail[(_tailStart + i) % _tail.Length];
            var head = Encoding.UTF8.GetString(_head, 0, _headLength);
            var dropped = TotalBytes - _headLength - _tailLength;
            if (dropped <= 0)
                return head + Encoding.UTF8.GetString(tail);
            return $"{head}\n[... {dropped} bytes of output omitted ...]\n{Encoding.UTF8.GetString(tail)}";
        }
    }
}
