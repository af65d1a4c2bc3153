using System.Text;
using SharpCtdb.Protocol;
using SharpCtdb.Tdb;

namespace SharpCtdb.FakeDaemon;

/// <summary>Database controls of the fake daemon: databases are real tdb files under <see cref="DbDir"/> so that the
/// tool can open them with libtdb exactly as it does against a real daemon.</summary>
public sealed partial class FakeCtdbd
{
    /// <summary>TDB flags the fake creates files with and reports in DB_OPEN_FLAGS.</summary>
    public const int DbTdbFlags = TdbFlags.IncompatibleHash;

    /// <summary>Hash size of the files: with the Jenkins hash this reproduces the record order of upstream's catdb/cattdb cases.</summary>
    public static int DbHashSize { get; set; } = 8192;

    private static readonly byte[] SeqnumKey = Encoding.ASCII.GetBytes("__db_sequence_number__\0");

    private void CreateDbFile(FakeDb db)
    {
        db.Path = Path.Combine(DbDir, db.Name);
        using var tdb = TdbFile.Open(db.Path, DbHashSize, DbTdbFlags, OpenFlags.ReadWrite | OpenFlags.Create);
    }

    private TdbFile OpenDb(FakeDb db) => TdbFile.Open(db.Path, DbHashSize, DbTdbFlags, OpenFlags.ReadWrite | OpenFlags.Create);

    private FakeDb? DbById(uint id) => _state.Dbs.Find(d => d.Id == id);

    private static uint DbIdArg(byte[] data)
    {
        var r = new WireReader(data);
        return r.U32();
    }

    private bool DispatchDb(ReqControl req, uint dest, Replier reply)
    {
        var data = req.Data;
        switch (req.Opcode)
        {
            case ControlOpcode.GetDbMap:
                reply(0, new DbIdMap([.. _state.Dbs.Select(d => new DbIdEntry(d.Id, d.Flags))]).ToBytes());
                return true;
            case ControlOpcode.GetDbName:
            case ControlOpcode.GetDbPath:
            case ControlOpcode.DbGetHealth:
            case ControlOpcode.DbOpenFlags:
            case ControlOpcode.GetDbSeqnum:
            case ControlOpcode.SetDbReadonly:
            case ControlOpcode.SetDbSticky:
            case ControlOpcode.DbDetach:
            case ControlOpcode.GetDbStatistics:
            case ControlOpcode.DbSetHealthy:
            case ControlOpcode.EnableSeqnum:
            case ControlOpcode.UpdateSeqnum:
                {
                    var db = DbById(DbIdArg(data));
                    if (db is null)
                    {
                        reply(-1, error: "Unknown database");
                        return true;
                    }
                    switch (req.Opcode)
                    {
                        case ControlOpcode.GetDbName:
                            reply(0, CStringBytes(db.Name));
                            break;
                        case ControlOpcode.GetDbPath:
                            reply(0, CStringBytes(db.Path));
                            break;
                        case ControlOpcode.DbGetHealth:
                            reply(0, []);
                            break;
                        case ControlOpcode.DbOpenFlags:
                            reply(0, new WireWriter(4).I32(DbTdbFlags).ToArray());
                            break;
                        case ControlOpcode.GetDbSeqnum:
                            reply(0, new WireWriter(8).U64(db.Seqnum).ToArray());
                            break;
                        case ControlOpcode.SetDbReadonly:
                            if ((db.Flags & (DbFlags.Persistent | DbFlags.Replicated)) != 0)
                            {
                                reply(-1);
                                break;
                            }
                            db.Flags |= DbFlags.ReadOnly;
                            reply(0);
                            break;
                        case ControlOpcode.SetDbSticky:
                            if ((db.Flags & (DbFlags.Persistent | DbFlags.Replicated)) != 0)
                            {
                                reply(-1);
                                break;
                            }
                            db.Flags |= DbFlags.Sticky;
                            reply(0);
                            break;
                        case ControlOpcode.DbDetach:
                            _state.Dbs.Remove(db);
                            reply(0);
                            break;
                        case ControlOpcode.GetDbStatistics:
                            reply(0, new byte[464]);
                            break;
                        default:
                            reply(0);
                            break;
                    }
                    return true;
                }
            case ControlOpcode.DbAttach:
            case ControlOpcode.DbAttachPersistent:
            case ControlOpcode.DbAttachReplicated:
                {
                    var name = WireReader.DecodeCString(data);
                    var flags = req.Opcode switch
                    {
                        ControlOpcode.DbAttachPersistent => DbFlags.Persistent,
                        ControlOpcode.DbAttachReplicated => DbFlags.Replicated,
                        _ => DbFlags.None,
                    };
                    var db = _state.Dbs.Find(d => d.Name == name);
                    if (db is null)
                    {
                        db = new FakeDb { Id = DatabaseId.FromName(name), Name = name, Flags = flags };
                        CreateDbFile(db);
                        _state.Dbs.Add(db);
                    }
                    else if ((db.Flags & (DbFlags.Persistent | DbFlags.Replicated)) != flags)
                    {
                        reply(-1, error: "database type mismatch");
                        return true;
                    }
                    reply(0, U32(db.Id));
                    return true;
                }
            case ControlOpcode.Trans3Commit:
                {
                    var buffer = RecBuffer.FromBytes(data);
                    var db = DbById(buffer.DbId);
                    if (db is null)
                    {
                        reply(-1);
                        return true;
                    }
                    using (var tdb = OpenDb(db))
                    {
                        foreach (var rec in buffer.Records)
                        {
                            tdb.Store(rec.Key, rec.Data);
                            if (rec.Key.AsSpan().SequenceEqual(SeqnumKey) && rec.TrySplitHeader(out _, out var value) && value.Length == 8)
                                db.Seqnum = BitConverter.ToUInt64(value);
                        }
                    }
                    reply(0);
                    return true;
                }
            case ControlOpcode.TraverseStartExt:
            case ControlOpcode.TraverseStart:
                {
                    ulong srvid;
                    uint dbId, reqId;
                    var withEmpty = false;
                    if (req.Opcode == ControlOpcode.TraverseStartExt)
                    {
                        var t = TraverseStartExt.FromBytes(data);
                        (dbId, reqId, srvid, withEmpty) = (t.DbId, t.ReqId, t.Srvid, t.WithEmptyRecords);
                    }
                    else
                    {
                        var t = TraverseStart.FromBytes(data);
                        (dbId, reqId, srvid) = (t.DbId, t.ReqId, t.Srvid);
                    }
                    var db = DbById(dbId);
                    if (db is null)
                    {
                        reply(-1);
                        return true;
                    }
                    var records = new List<RecData>();
                    using (var tdb = OpenDb(db))
                    {
                        tdb.TraverseRead((k, v) =>
                        {
                            if (withEmpty || v.Length > LtdbHeader.Size)
                                records.Add(new RecData(reqId, k.ToArray(), v.ToArray()));
                            return true;
                        });
                    }
                    reply(0);
                    foreach (var rec in records)
                        Broadcast(srvid, rec.ToBytes(), dest);
                    Broadcast(srvid, new RecData(reqId, [], []).ToBytes(), dest);
                    return true;
                }
            default:
                return false;
        }
    }

    /// <summary>REQ_CALL from a fetch-lock: the fake is every record's lmaster and dmaster, so migrating means writing
    /// a header with dmaster = the current node into the local file and replying at once.</summary>
    private void HandleCall(ClientConn conn, ReqCall call)
    {
        var status = 0;
        byte[] replyData = [];
        lock (_lock)
        {
            var db = DbById(call.DbId);
            if (db is null)
            {
                status = -1;
            }
            else
            {
                using var tdb = OpenDb(db);
                var existing = tdb.Fetch(call.Key);
                var header = existing is { Length: >= LtdbHeader.Size } ? LtdbHeader.FromBytes(existing.AsSpan(0, LtdbHeader.Size)) : null;
                var value = existing is { Length: >= LtdbHeader.Size } ? existing[LtdbHeader.Size..] : [];
                var newHeader = new LtdbHeader(header?.Rsn ?? 0, _state.CurrentPnn, header?.Flags ?? 0);
                var w = new WireWriter();
                newHeader.Write(w);
                w.Bytes(value);
                tdb.Store(call.Key, w.ToArray());
                replyData = call.CallId switch
                {
                    CallId.FetchFunc => value,
                    CallId.FetchWithHeaderFunc => w.ToArray(),
                    _ => [],
                };
            }
        }
        var h = PacketHeader.Create(Operation.ReplyCall, call.Header.SrcNode, _state.CurrentPnn, call.Header.ReqId);
        conn.Send(new ReplyCall(h, status, replyData).Encode());
    }
}
