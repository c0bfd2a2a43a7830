using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace ProfileSync.TenantEmulator;

public sealed class EmulatedUser
{
    public required string Upn { get; init; }
    public required string Id { get; init; }
    public bool InGraph { get; init; } = true;
    public bool Mailbox { get; init; } = true;
    public bool AccountEnabled { get; init; } = true;
    public string UserType { get; init; } = "Member";
    /// <summary>Hidden from the address list: missing from the People search index.</summary>
    public bool HiddenFromAddressList { get; set; }
    /// <summary>The search index's document id of the user's profile: stable, in the order users were added.</summary>
    public long DocId { get; init; }
    private Lazy<byte[]>? _photo;

    /// <summary>The Exchange photo; drawn on first read, so seeding a large tenant costs nothing up front.</summary>
    public byte[]? Photo
    {
        get => _photo?.Value;
        set
        {
            _photo = value is null ? null : new Lazy<byte[]>(value);
            PhotoETag = value is null ? null : ETagOf(Convert.ToHexString(SHA256.HashData(value)));
        }
    }

    public void SetPhoto(PhotoSpec spec)
    {
        _photo = new Lazy<byte[]>(() => PhotoFactory.Portrait(spec));
        PhotoETag = ETagOf($"{spec.Seed}:{spec.Variant}:{spec.Width}x{spec.Height}:{spec.Format}");
        PhotoContentType = spec.Format.Equals("png", StringComparison.OrdinalIgnoreCase) ? "image/png" : "image/jpeg";
        PhotoWidth = spec.Width;
        PhotoHeight = spec.Height;
    }

    public bool HasPhoto => _photo is not null;
    public string? PhotoContentType { get; set; }
    public int PhotoWidth { get; set; }
    public int PhotoHeight { get; set; }
    public string? NoPhotoAnswer { get; set; }
    public Dictionary<string, string>? Profile { get; set; }
    /// <summary>Names of the profile properties written, in order: how often a run wrote this user.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> PropertyWrites { get; } = new();
    /// <summary>Graph photo writes (PUT, DELETE), in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> PhotoWrites { get; } = new();

    /// <summary>Graph's media etag: changes whenever the photo changes.</summary>
    public string? PhotoETag { get; private set; }

    private static string ETagOf(string key) => "\"" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8] + "\"";
    public string ClaimsName => "i:0#.f|membership|" + Upn;
}

/// <summary>
/// One request as the emulator saw it: what tests assert on. At: when its answer was done (the entry is
/// logged then); ReceivedAt: when its handler began, so a test can tell which requests arrived after a moment.
/// </summary>
public sealed record RequestLogEntry(
    long Sequence, string Service, string Method, string Target, int Status, bool Authorized, bool CarriedOtherServiceToken,
    string? UserAgent, DateTimeOffset At, long Bytes = 0, DateTimeOffset? ReceivedAt = null)
{
    /// <summary>A request that changes tenant data. A Graph $batch is a POST but only carries the reads its items (logged one by one) make.</summary>
    public bool IsWrite => Method is "POST" or "PUT" or "PATCH" or "DELETE" or "MERGE" && !Target.Contains("/$batch", StringComparison.Ordinal);
}

/// <summary>One profile as the People search index holds it: its document id and its properties when the snapshot was taken.</summary>
public sealed record IndexedPerson(long DocId, IReadOnlyDictionary<string, string> Properties);

/// <summary>All the tenant's data, shared by the Graph and SharePoint hosts. Thread-safe.</summary>
public sealed class TenantState
{
    public const string LibraryUrl = "/User Photos";
    private readonly ConcurrentDictionary<string, EmulatedUser> _byUpn = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, EmulatedUser> _byId = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (string Path, Lazy<byte[]> Bytes, DateTimeOffset Modified)> _files = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>When the seeded files were written: a day before the emulator started, as files a tenant had before any run.</summary>
    private readonly DateTimeOffset _seededAt = TruncatedToSeconds(DateTimeOffset.UtcNow.AddDays(-1));
    private readonly ConcurrentQueue<RequestLogEntry> _log = new();
    private long _sequence;
    private long _nextDocId;
    private IReadOnlyList<IndexedPerson> _searchIndex = Array.Empty<IndexedPerson>();

    public TenantState(Scenario scenario)
    {
        Scenario = scenario;
        PhotoFolderUrl = LibraryUrl + "/" + scenario.PhotoFolder;
        foreach (var spec in scenario.AllUsers()) Add(spec);
        RefreshSearchIndex();
    }

    /// <summary>
    /// What SharePoint People search answers from: a snapshot of the profiles, not the profiles. Taken
    /// at start (again once the My Site origin is bound) and by <see cref="RefreshSearchIndex"/> (control:
    /// POST /search/refresh), so it lags behind profile writes as the real index does (hours, facts doc 5a).
    /// Users hidden from the address list and users without a profile are not in it. In document id order.
    /// </summary>
    public IReadOnlyList<IndexedPerson> SearchIndex => Volatile.Read(ref _searchIndex);

    public DateTimeOffset SearchIndexTakenAt { get; private set; }

    public void RefreshSearchIndex()
    {
        var entries = new List<IndexedPerson>();
        foreach (var user in _byUpn.Values)
        {
            if (user.Profile is null || user.HiddenFromAddressList) continue;
            Dictionary<string, string> copy;
            lock (user.Profile) copy = new Dictionary<string, string>(user.Profile, StringComparer.OrdinalIgnoreCase);
            copy["AccountName"] = user.ClaimsName;
            copy["Path"] = $"{MySiteOrigin}/Person.aspx?accountname={Uri.EscapeDataString(user.ClaimsName)}";
            entries.Add(new IndexedPerson(user.DocId, copy));
        }
        entries.Sort((a, b) => a.DocId.CompareTo(b.DocId));
        Volatile.Write(ref _searchIndex, entries);
        SearchIndexTakenAt = DateTimeOffset.UtcNow;
    }

    public Scenario Scenario { get; }
    public string PhotoFolderUrl { get; }
    public string MySiteOrigin { get; set; } = "";
    public IEnumerable<EmulatedUser> Users => _byUpn.Values;

    /// <summary>Graph's directory order: by object id, stable across pages.</summary>
    public IReadOnlyList<EmulatedUser> DirectoryOrder() => _byId.Values.Where(u => u.InGraph).OrderBy(u => u.Id, StringComparer.Ordinal).ToList();

    public EmulatedUser? FindByKey(string key) =>
        _byUpn.TryGetValue(key, out var u) ? u : _byId.TryGetValue(key, out u) ? u : null;

    public EmulatedUser? FindByClaims(string claims)
    {
        var bar = claims.LastIndexOf('|');
        return FindByKey(bar >= 0 ? claims[(bar + 1)..] : claims);
    }

    public IReadOnlyList<string> FolderUrls() => new[] { LibraryUrl + "/Forms", PhotoFolderUrl };

    /// <summary>The library's root and its folders take files.</summary>
    public bool FolderExists(string url) => FolderUrls().Append(LibraryUrl).Any(f => f.Equals(url.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));

    public byte[]? ReadFile(string path) => _files.TryGetValue(path, out var f) ? f.Bytes.Value : null;
    /// <summary>A file written now (an upload, SharePoint's own pull): its Modified is now, in whole seconds as SharePoint gives it.</summary>
    public void WriteFile(string path, byte[] bytes) => _files[path] = (path, new Lazy<byte[]>(bytes), TruncatedToSeconds(DateTimeOffset.UtcNow));
    /// <summary>A file made on first read; written now, or (seeding) before the emulator started.</summary>
    public void WriteFile(string path, Func<byte[]> make, bool seeded = false) => _files[path] = (path, new Lazy<byte[]>(make), seeded ? _seededAt : TruncatedToSeconds(DateTimeOffset.UtcNow));
    /// <summary>When a file was last written (the list item's Modified); null when there is no such file.</summary>
    public DateTimeOffset? ModifiedOf(string path) => _files.TryGetValue(path, out var f) ? f.Modified : null;
    private static DateTimeOffset TruncatedToSeconds(DateTimeOffset t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
    public bool DeleteFile(string path) => _files.TryRemove(path, out _);
    public IReadOnlyList<string> FilePaths() => _files.Values.Select(f => f.Path).OrderBy(p => p, StringComparer.Ordinal).ToList();
    public IReadOnlyList<(string Path, int Length)> Files() => _files.Values.Select(f => (f.Path, f.Bytes.Value.Length)).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
    public int CountFilesIn(string folder) => _files.Keys.Count(k => k.StartsWith(folder.TrimEnd('/') + "/", StringComparison.OrdinalIgnoreCase));

    public void Log(string service, string method, string target, int status, bool authorized, bool otherToken, string? userAgent, long bytes = 0, DateTimeOffset? receivedAt = null)
    {
        var now = DateTimeOffset.UtcNow;
        _log.Enqueue(new RequestLogEntry(Interlocked.Increment(ref _sequence), service, method, target, status, authorized, otherToken, userAgent, now, bytes, receivedAt ?? now));
    }

    public IReadOnlyList<RequestLogEntry> RequestLog => _log.ToArray();
    public void ClearLog() => _log.Clear();

    private void Add(ScenarioUser spec)
    {
        var id = spec.Id ?? DerivedId(spec.Upn);
        var user = new EmulatedUser
        {
            Upn = spec.Upn, Id = id, InGraph = spec.InGraph, Mailbox = spec.Mailbox, AccountEnabled = spec.AccountEnabled, UserType = spec.UserType,
            HiddenFromAddressList = spec.HiddenFromAddressList, DocId = Interlocked.Increment(ref _nextDocId),
        };
        if (spec.Photo is not null)
        {
            user.SetPhoto(spec.Photo);
        }
        else
        {
            user.NoPhotoAnswer = spec.NoPhoto ?? "ImageNotFound";
        }
        if (spec.SharePoint != SharePointSeed.NoProfile)
        {
            user.Profile = NewProfile(user, spec.DisplayName);
            SeedSharePoint(user, spec);
        }
        _byUpn[user.Upn] = user;
        _byId[user.Id] = user;
    }

    /// <summary>The user leaves the tenant (deleted in Entra ID): Graph no longer knows them and the profile is gone.</summary>
    public bool RemoveUser(string upn)
    {
        if (!_byUpn.TryRemove(upn, out var user)) return false;
        _byId.TryRemove(user.Id, out _);
        return true;
    }

    private static Dictionary<string, string> NewProfile(EmulatedUser user, string? displayName)
    {
        var name = displayName ?? user.Upn.Split('@')[0];
        return new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["UserProfile_GUID"] = DerivedId("profile:" + user.Upn),
            ["AccountName"] = user.ClaimsName,
            ["FirstName"] = name,
            ["LastName"] = "",
            ["PreferredName"] = name,
            ["WorkEmail"] = user.Upn,
            ["SPS-UserPrincipalName"] = user.Upn,
            ["msOnline-ObjectId"] = user.Id,
            ["PictureURL"] = "",
            ["SPS-PicturePlaceholderState"] = "1",
            ["SPS-PictureTimestamp"] = "",
            ["SPS-PictureExchangeSyncState"] = "1",
        };
    }

    /// <summary>The name SharePoint gives the thumbnails it copies itself: the account name with every other character as '_'.</summary>
    private static string SharePointOwnPrefix(EmulatedUser user) => string.Concat(user.Upn.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_'));

    private void WriteThumbs(string prefix, Func<byte[]> source, int large = 240, int quality = 75, bool seeded = false)
    {
        foreach (var (suffix, side) in new[] { ("_SThumb.jpg", 48), ("_MThumb.jpg", 72), ("_LThumb.jpg", large) })
            WriteFile($"{PhotoFolderUrl}/{prefix}{suffix}", () => PhotoFactory.SharePointThumbnail(source(), side, quality), seeded);
    }

    private void PointAt(EmulatedUser user, string prefix, string placeholder, string timestamp = "63850000000")
    {
        var profile = user.Profile!;
        lock (profile)
        {
            // While seeding the host's origin is not known yet; BindMySiteOrigin fills it in.
            profile["PictureURL"] = (MySiteOrigin.Length > 0 ? MySiteOrigin : MySitePlaceholderOrigin) + EscapePath($"{PhotoFolderUrl}/{prefix}_MThumb.jpg");
            profile["SPS-PicturePlaceholderState"] = placeholder;
            profile["SPS-PictureTimestamp"] = timestamp;
        }
    }

    /// <summary>
    /// SharePoint's own pull (SPS-PictureExchangeSyncState = 1, the user opened their own photo): it
    /// copies the Exchange photo into thumbnails of its own naming (L = 300, lower quality), points
    /// PictureURL at them, and leaves whatever set PictureURL named before where it was. False when the
    /// user has no profile or no Exchange photo (nothing to pull).
    /// </summary>
    public bool SharePointPull(EmulatedUser user)
    {
        if (user.Profile is null || !user.HasPhoto) return false;
        var photo = user.Photo!;
        var prefix = SharePointOwnPrefix(user);
        WriteThumbs(prefix, () => photo, large: 300, quality: 60);
        PointAt(user, prefix, "0", (DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return true;
    }

    private void SeedSharePoint(EmulatedUser user, ScenarioUser spec)
    {
        var profile = user.Profile!;
        string Legacy() => SharePointOwnPrefix(user);
        void Thumbs(string prefix, Func<byte[]> source) => WriteThumbs(prefix, source, seeded: true);
        void Point(string prefix, string placeholder) => PointAt(user, prefix, placeholder);
        var photo = spec.Photo;
        switch (spec.SharePoint)
        {
            case SharePointSeed.SyncedBySharePoint when user.HasPhoto:
                Thumbs(Legacy(), () => user.Photo!); Point(Legacy(), "0"); break;
            case SharePointSeed.SyncedObjectId when user.HasPhoto:
                Thumbs(user.Id, () => user.Photo!); Point(user.Id, "0"); break;
            case SharePointSeed.Stale when photo is not null:
                Thumbs(user.Id, () => PhotoFactory.Portrait(new PhotoSpec { Seed = photo.Seed + 7919 })); Point(user.Id, "0"); break;
            case SharePointSeed.Similar when photo is not null:
                Thumbs(user.Id, () => PhotoFactory.Portrait(new PhotoSpec { Seed = photo.Seed, Variant = 1, Width = photo.Width, Height = photo.Height })); Point(user.Id, "0"); break;
            case SharePointSeed.PlaceholderWithUrl when user.HasPhoto:
                Thumbs(user.Id, () => user.Photo!); Point(user.Id, "1"); break;
            case SharePointSeed.MissingFile:
                Point(user.Id, "0"); break;
            case SharePointSeed.OutsideTenant:
                profile["PictureURL"] = "https://photos.example.net/cdn/" + user.Id + "_MThumb.jpg";
                profile["SPS-PicturePlaceholderState"] = "0";
                break;
        }
    }

    /// <summary>PictureURL values are absolute; the origin is fixed when the My Site host has its port.</summary>
    public const string MySitePlaceholderOrigin = "{mysite}";

    public static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    public static string DerivedId(string key)
    {
        var hash = MD5.HashData(Encoding.UTF8.GetBytes(key.ToLowerInvariant()));
        return new Guid(hash).ToString("D");
    }

    /// <summary>Replaces the origin placeholder in seeded PictureURLs once the My Site host's address is known.</summary>
    public void BindMySiteOrigin(string origin)
    {
        MySiteOrigin = origin.TrimEnd('/');
        foreach (var user in _byUpn.Values)
            if (user.Profile is not null && user.Profile["PictureURL"].StartsWith(MySitePlaceholderOrigin, StringComparison.Ordinal))
                user.Profile["PictureURL"] = MySiteOrigin + user.Profile["PictureURL"][MySitePlaceholderOrigin.Length..];
        RefreshSearchIndex(); // the start-up snapshot again, with the real origin in its PictureURLs
    }
}
