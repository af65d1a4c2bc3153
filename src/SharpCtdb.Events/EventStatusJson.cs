using System.Text;
using System.Text.Json;
using SharpCtdb.Protocol.EventDaemon;

namespace SharpCtdb.Events;

/// <summary>
/// `ctdb --json event status COMPONENT EVENT` and `ctdb --json scriptstatus [EVENT]` (beyond 4.17; schema in
/// docs/tool-json.md, fields are only ever added). Built with <see cref="Utf8JsonWriter"/>: no reflection (NativeAOT).
/// </summary>
public static class EventStatusJson
{
    /// <summary>
    /// One object for the event daemon's STATUS answer: <paramref name="reply"/> 0 with <paramref name="status"/>,
    /// ENOENT (no component directory) or EINVAL (never run); anything else is reported as an error string.
    /// </summary>
    public static string Format(string component, string eventName, int reply, EventScriptStatusList? status)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("component", component);
            w.WriteString("event", eventName);
            var ran = reply == 0;
            w.WriteBoolean("ran", ran);
            if (ran)
            {
                var list = status ?? new EventScriptStatusList(0, []);
                w.WriteNumber("result", list.Summary);
                w.WriteString("status", list.Summary == 0 ? "OK" : list.Summary == -Errno.ETIMEDOUT ? "TIMEDOUT" : "ERROR");
                w.WriteStartArray("scripts");
                foreach (var s in list.Scripts)
                    WriteScript(w, s);
                w.WriteEndArray();
            }
            else
            {
                w.WriteString("error", reply switch
                {
                    Errno.ENOENT => $"Event dir for {component} does not exist",
                    Errno.EINVAL => $"Event {eventName} has never run in {component}",
                    _ => $"Unknown error ({reply}) for event {eventName} in {component}",
                });
                w.WriteStartArray("scripts");
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteScript(Utf8JsonWriter w, EventScriptStatus s)
    {
        w.WriteStartObject();
        w.WriteString("name", s.Name);
        var word = s.Result switch
        {
            0 => "OK",
            > 0 => "ERROR",
            -Errno.ETIMEDOUT => "TIMEDOUT",
            -Errno.ENOEXEC => "DISABLED",
            _ => "CANNOT RUN",
        };
        w.WriteString("status", word);
        w.WriteNumber("result", s.Result);
        if (s.Result < 0 && s.Result != -Errno.ETIMEDOUT && s.Result != -Errno.ENOEXEC)
            w.WriteString("error", Errno.Message(-s.Result));
        else
            w.WriteNull("error");
        var disabled = s.Result == -Errno.ENOEXEC;
        if (disabled)
        {
            w.WriteNull("begin");
            w.WriteNull("end");
            w.WriteNull("duration");
        }
        else
        {
            w.WriteNumber("begin", Seconds(s.Begin.Sec, s.Begin.Usec));
            w.WriteNumber("end", Seconds(s.End.Sec, s.End.Usec));
            w.WriteNumber("duration", Math.Round(Seconds(s.End.Sec, s.End.Usec) - Seconds(s.Begin.Sec, s.Begin.Usec), 6));
        }
        // Unlike the text form, the output of successful scripts is included too (4.17 records it but only prints
        // it for failures).
        if (string.IsNullOrEmpty(s.Output))
            w.WriteNull("output");
        else
            w.WriteString("output", s.Output);
        w.WriteEndObject();
    }

    private static double Seconds(long sec, long usec) => sec + (usec / 1e6);
}
