using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using ProfileSync.Core.Identity;
using ProfileSync.Core.SharePoint;

namespace ProfileSync.Core.Sync;

/// <summary>
/// "This user's SharePoint photo is the Exchange photo", found by comparing the two (a download of
/// each), for a set ProfileSync cannot vouch for by its name (SharePoint's own copy, or a set whose
/// token is of an older etag). Valid only while the Exchange etag, the thumbnail's path and that
/// file's Modified time in the live library listing are all as recorded: a new Exchange photo, a
/// re-copy by SharePoint (same names, new Modified) or a profile naming other files ends it by itself.
/// </summary>
public sealed record RememberedVerdict(string ExchangeETag, string ThumbnailPath, DateTimeOffset ThumbnailModified);

/// <summary>
/// The remembered verdicts of a tenant, kept in ONE file in the tenant itself (the photo library's
/// root, <see cref="FileName"/>): a runbook keeps no disk between jobs, and the library is the one
/// place ProfileSync already writes. Read once by bulk runs (one request), written back by a sync
/// run that changed it (one upload), never by a read-only command. Losing the file costs only
/// downloads on the next run; a verdict is re-proved by comparing the photos again.
/// </summary>
public sealed class RememberedVerdicts
{
    public const string FileName = "ProfileSync-verdicts.json.gz";
    private const string Format = "ProfileSync.RememberedVerdicts/1";
    /// <summary>About 60 bytes a user compressed: 64 MB is a million users, far past any tenant.</summary>
    private const long MaxFileBytes = 64L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, RememberedVerdict> _byUpn = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();
    private Task? _loading;
    private volatile bool _changed;

    public bool IsReady { get; private set; }
    public string? LoadError { get; private set; }
    public bool Changed => _changed;
    public int Count => _byUpn.Count;

    public static string PathIn(string libraryUrl) => libraryUrl.TrimEnd('/') + "/" + FileName;

    public Task StartLoading(SharePointRestClient sharePoint, string libraryUrl, CancellationToken cancellationToken)
    {
        lock (_gate) return _loading ??= LoadAsync(sharePoint, libraryUrl, cancellationToken);
    }

    private async Task LoadAsync(SharePointRestClient sharePoint, string libraryUrl, CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await sharePoint.DownloadFileAsync(PathIn(libraryUrl), MaxFileBytes, cancellationToken).ConfigureAwait(false);
            if (bytes is not null) Read(bytes);
            IsReady = true;
        }
        catch (ProfileSyncException ex)
        {
            LoadError = ex.Message;
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            // A damaged file is only lost memory: this run compares again and writes a good one.
            LoadError = $"'{PathIn(libraryUrl)}' could not be read ({ex.Message}); verdicts are made again.";
            IsReady = true;
        }
        catch (OperationCanceledException)
        {
            LoadError = "The run stopped before the remembered verdicts were read.";
        }
    }

    public RememberedVerdict? Find(UserRef user) => IsReady ? _byUpn.GetValueOrDefault(user.UserPrincipalName) : null;

    public void Remember(UserRef user, RememberedVerdict verdict)
    {
        if (!IsReady) return;
        if (_byUpn.TryGetValue(user.UserPrincipalName, out var old) && old == verdict) return;
        _byUpn[user.UserPrincipalName] = verdict;
        _changed = true;
    }

    public void Forget(UserRef user)
    {
        if (IsReady && _byUpn.TryRemove(user.UserPrincipalName, out _)) _changed = true;
    }

    /// <summary>Writes the verdicts back (overwriting the file): one upload.</summary>
    public async Task SaveAsync(SharePointRestClient sharePoint, string libraryUrl, CancellationToken cancellationToken)
    {
        await sharePoint.UploadFileAsync(libraryUrl.TrimEnd('/'), FileName, Write(), cancellationToken).ConfigureAwait(false);
        _changed = false;
    }

    internal byte[] Write()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        using (var json = new Utf8JsonWriter(gzip))
        {
            json.WriteStartObject();
            json.WriteString("format", Format);
            json.WriteStartArray("verdicts");
            foreach (var (upn, v) in _byUpn.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
            {
                json.WriteStartObject();
                json.WriteString("user", upn);
                json.WriteString("etag", v.ExchangeETag);
                json.WriteString("file", v.ThumbnailPath);
                json.WriteString("modified", v.ThumbnailModified.UtcDateTime.ToString("o", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    internal void Read(byte[] bytes)
    {
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(gzip);
        var root = doc.RootElement;
        if (!root.TryGetProperty("format", out var format) || format.GetString() != Format)
            throw new InvalidDataException("not a file of this ProfileSync version");
        foreach (var item in root.GetProperty("verdicts").EnumerateArray())
        {
            if (item.GetProperty("user").GetString() is not string upn || !UserRef.TryParse(upn, out var user, out _)) continue;
            if (item.GetProperty("etag").GetString() is not string etag || item.GetProperty("file").GetString() is not string file) continue;
            if (!item.GetProperty("modified").TryGetDateTimeOffset(out var modified)) continue;
            _byUpn[user!.UserPrincipalName] = new RememberedVerdict(etag, file, modified);
        }
        IsReady = true;
    }
}
