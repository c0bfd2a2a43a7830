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
            var listed = new Dictionary<UInt128, Entry>();
            await foreach (var profile in search.ListAsync(cancellationToken).ConfigureAwait(false)) listed[CompactKeySet.Digest(profile.UserPrincipalName)] = Entry.Of(profile);
            if (listed.Count == 0)
            {
                // 200 with no rows: an empty index, or app-only people search failing silently (reported in some tenants).
                LoadError = "People search answered with no rows (reported for app-only sign-in in some tenants)";
                return;
            }
            lock (_gate) foreach (var (upn, profile) in listed) _byUpn[upn] = profile;
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
    }

    /// <summary>The user's index entry; null when the index is not ready or does not hold the user.</summary>
    public IndexedProfile? Find(UserRef user)
    {
        if (!IsReady) return null;
        Entry entry;
        lock (_gate) if (!_byUpn.TryGetValue(CompactKeySet.Digest(user.UserPrincipalName), out entry)) return null;
        return new IndexedProfile(user.UserPrincipalName, user.ClaimsAccountName, entry.PictureUrl, entry.PlaceholderState, PictureTimestamp: null,
            entry.ObjectId is Guid id ? id.ToString("D") : null) { DisplayName = entry.DisplayName };
    }

    /// <summary>
    /// An entry as kept: no account name (the UPN gives it), no timestamp or profile id (a write reads
    /// the live profile first), the object id as a Guid.
    /// </summary>
    private readonly record struct Entry(string? PictureUrl, string? PlaceholderState, Guid? ObjectId, string? DisplayName)
    {
        public static Entry Of(IndexedProfile p) => new(p.PictureUrl, p.PlaceholderState switch { "0" => "0", "1" => "1", _ => null },
            Guid.TryParse(p.ObjectId, out var id) ? id : null, p.DisplayName);
    }
}
