using System.Text.Json;
using System.Text.Json.Nodes;
using ProfileSync.Core.Identity;

namespace ProfileSync.Core.Sync;

/// <summary>
/// The journal of a bulk run, so a run stopped by Ctrl+C, a crash or a killed process continues
/// without redoing the users already finished. JSON Lines: a header (format, tenant, command,
/// module version), then one line per finished user, flushed as it is written (a killed process
/// loses at most the users in flight, which are simply done again). Failed users are not finished:
/// a resumed run tries them again. User text is written through the JSON writer, so it is escaped.
/// </summary>
public sealed class RunJournal : IDisposable
{
    public const int FormatVersion = 1;
    // Readable names (ü stays ü); quotes, backslashes and control characters are still escaped.
    private static readonly JsonSerializerOptions LineFormat = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly CompactKeySet _finished;
    private readonly StreamWriter _writer;

    private RunJournal(string path, StreamWriter writer, CompactKeySet finished, int resumed)
    {
        Path = path;
        _writer = writer;
        _finished = finished;
        Resumed = resumed;
    }

    public string Path { get; }
    /// <summary>Users the journal already held when the run started.</summary>
    public int Resumed { get; }

    public static RunJournal Open(string path, string tenant, string command)
    {
        try
        {
            return OpenOrCreate(path, tenant, command);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ProfileSyncException(ErrorIds.JournalRefused, FailureKind.InvalidInput, $"The journal '{path}' cannot be opened: {ex.Message}", ex)
            { RecommendedAction = "Give -JournalPath a file this account may write." };
        }
    }

    private static RunJournal OpenOrCreate(string path, string tenant, string command)
    {
        var version = typeof(RunJournal).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var finished = new CompactKeySet();
        var resumed = 0;
        if (File.Exists(path) && new FileInfo(path).Length > 0)
        {
            using var reader = new StreamReader(path);
            var header = Parse(reader.ReadLine(), path, 1);
            if (header?["profileSyncJournal"]?.GetValue<int>() is not FormatVersion)
                throw Refused(path, $"it is not a ProfileSync journal of format {FormatVersion} (written by another tool or another version of ProfileSync)");
            var writtenFor = header["tenant"]?.GetValue<string>();
            if (!string.Equals(writtenFor, tenant, StringComparison.OrdinalIgnoreCase))
                throw Refused(path, $"it was written for tenant '{writtenFor}', and this connection is to '{tenant}'");
            var writtenBy = header["command"]?.GetValue<string>();
            if (!string.Equals(writtenBy, command, StringComparison.OrdinalIgnoreCase))
                throw Refused(path, $"it was written by {writtenBy}, not {command}");
            string? line;
            var number = 1;
            while ((line = reader.ReadLine()) is not null)
            {
                number++;
                if (line.Length == 0) continue;
                JsonNode? entry;
                try { entry = JsonNode.Parse(line); }
                catch (JsonException) when (reader.Peek() < 0) { break; } // the last line of a killed process may be cut short
                if (entry?["upn"]?.GetValue<string>() is string upn && finished.Add(upn)) resumed++;
            }
        }
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var writer = new StreamWriter(stream) { AutoFlush = true };
        if (stream.Length == 0)
            writer.WriteLine(new JsonObject
            {
                ["profileSyncJournal"] = FormatVersion, ["tenant"] = tenant, ["command"] = command, ["version"] = version,
                ["created"] = DateTimeOffset.UtcNow.ToString("o"),
            }.ToJsonString(LineFormat));
        return new RunJournal(path, writer, finished, resumed);

        static JsonNode? Parse(string? line, string path, int number)
        {
            try { return line is null ? null : JsonNode.Parse(line); }
            catch (JsonException) { throw Refused(path, $"line {number} is not JSON"); }
        }
    }

    public bool IsFinished(string userPrincipalName) => _finished.Contains(userPrincipalName);

    /// <summary>Records a finished user (one line, flushed).</summary>
    public void Finished(string userPrincipalName, string outcome)
    {
        if (!_finished.Add(userPrincipalName)) return;
        var line = new JsonObject { ["upn"] = userPrincipalName, ["outcome"] = outcome, ["at"] = DateTimeOffset.UtcNow.ToString("o") }.ToJsonString(LineFormat);
        lock (_writer) _writer.WriteLine(line);
    }

    public void Dispose() => _writer.Dispose();

    private static ProfileSyncException Refused(string path, string why) =>
        new(ErrorIds.JournalRefused, FailureKind.InvalidInput, $"The journal '{path}' cannot be used: {why}.")
        { RecommendedAction = "Give -JournalPath a new file for this run, or the journal this tenant's same command wrote." };
}
