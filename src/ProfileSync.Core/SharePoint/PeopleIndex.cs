using ProfileSync.Core.Identity;

namespace ProfileSync.Core.SharePoint;

/// <summary>
/// What SharePoint People search's index says of every profile, read once for a bulk run (500 profiles
/// a request instead of one PeopleManager call per user). The index lags hours behind the profiles and
/// leaves out hidden users (facts doc 5a), so an entry is a lead, never proof: <see cref="Sync.IndexEvidence"/>
/// decides which entries the live library listing lets it trust. Unknown (null) until loaded; after a
/// refusal or an empty answer it stays unknown and every user is read one by one.
/// </summary>
public sealed class PeopleIndex
{
    /// <summary>What a check needs of an entry, by the UPN's digest: a 100,000-user index stays a few MB.</summary>
    private readonly Dictionary<UInt128, Entry> _byUpn = new();
    private readonly object _gate = new();
    private Task? _loading;

    public bool IsReady { get; private set; }
    /// <summary>Why the index is not used (refused, empty, failed); null while loading or when ready.</summary>
    public string? LoadError { get; private set; }
    public int Count { get { lock (_gate) return _byUpn.Count; } }

    public Task StartLoading(PeopleSearch search, CancellationToken cancellationToken)
    {
        lock (_gate) return _loading ??= LoadAsync(search, cancellationToken);
    }

    private async Task LoadAsync(PeopleSearch search, CancellationToken cancellationToken)
    {
        try
        {
            // Filled in place (not ready until the end): a second copy would double the index's peak.
            await foreach (var profile in search.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                var entry = Entry.Of(profile, _folders);
                lock (_gate) _byUpn[CompactKeySet.Digest(profile.UserPrincipalName)] = entry;
            }
            if (Count == 0)
            {
                // 200 with no rows: an empty index, or app-only people search failing silently (reported in some tenants).
                LoadError = "People search answered with no rows (reported for app-only sign-in in some tenants)";
                return;
            }
            IsReady = true;
        }
        catch (ProfileSyncException ex)
        {
            LoadError = "People search " + (ex.Kind is FailureKind.AccessDenied or FailureKind.AuthenticationFailed ? "was refused" : "failed") + ": " + ex.Message;
        }
        catch (OperationCanceledException)
        {
            LoadError = "The run stopped before People search was read.";
        }
        if (!IsReady) lock (_gate) _byUpn.Clear();
    }

    /// <summary>
    /// The user's profile as the index holds it (no timestamp: a write reads the live profile); null when
    /// the index is not ready or does not hold the user. An entry without the placeholder state (whether
    /// the real index serves it is unconfirmed) reads as "a real photo" when it names one.
    /// </summary>
    public SharePointProfile? Find(UserRef user)
    {
        if (!IsReady) return null;
        Entry entry;
        lock (_gate) if (!_byUpn.TryGetValue(CompactKeySet.Digest(user.UserPrincipalName), out entry)) return null;
        var pictureUrl = entry.PictureFile is null ? null : entry.PictureFolder + entry.PictureFile;
        return new SharePointProfile(user.ClaimsAccountName, pictureUrl, entry.PlaceholderState ?? (pictureUrl is null ? "1" : "0"), PictureTimestamp: null,
            ExchangeSyncState: null, entry.ObjectId is Guid id ? id.ToString("D") : null) { DisplayName = entry.DisplayName };
    }

    /// <summary>PictureURLs up to their last '/', each kept once: nearly every user's is the same photo folder.</summary>
    private readonly Dictionary<string, string> _folders = new(StringComparer.Ordinal);

    /// <summary>
    /// An entry as kept: no account name (the UPN gives it), no timestamp or profile id (a write reads
    /// the live profile first), PictureURL as a shared folder plus the file name, the object id as a Guid.
    /// </summary>
    private readonly record struct Entry(string? PictureFolder, string? PictureFile, string? PlaceholderState, Guid? ObjectId, string? DisplayName)
    {
        public static Entry Of(IndexedProfile p, Dictionary<string, string> folders)
        {
            string? folder = null, file = null;
            if (p.PictureUrl is string url)
            {
                var slash = url.LastIndexOf('/') + 1;
                var key = url[..slash];
                lock (folders) folder = folders.TryGetValue(key, out var shared) ? shared : folders[key] = key;
                file = url[slash..];
            }
            return new(folder, file, p.PlaceholderState switch { "0" => "0", "1" => "1", _ => null }, Guid.TryParse(p.ObjectId, out var id) ? id : null, p.DisplayName);
        }
    }
}
