using ProfileSync.Core.Identity;

namespace ProfileSync.Core.SharePoint;

/// <summary>
/// Which files the User Photos library holds and when each was last written, read once for a bulk
/// run with the list items API (one request per 5,000 files, ~0.001 requests per user), then kept
/// current with the run's own writes. Lets a check confirm that the thumbnails a profile points at
/// exist without downloading them, and tells whether a user has a set newer than the one the People
/// search index names (SharePoint copied the photo again, or ProfileSync wrote it after the index).
/// Until loaded (or if loading failed) it answers "unknown" and checks download as before.
/// </summary>
public sealed class LibraryIndex
{
    /// <summary>Every file, as a digest, with its Modified time in ticks (0 when the listing did not say).</summary>
    private readonly Dictionary<UInt128, long> _files = new();
    /// <summary>Every S/M/L set by owner digest (the file prefix without ProfileSync's token): its set digest and newest Modified.</summary>
    private readonly Dictionary<UInt128, List<(UInt128 Set, long Ticks)>> _setsByOwner = new();
    /// <summary>The sets ProfileSync wrote (names with its photo token), by owner (object id or account-name prefix): the only files it may clear away.</summary>
    private readonly Dictionary<string, HashSet<string>> _ourSets = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();
    private readonly object _loadGate = new();
    private Task? _loading;

    public bool IsReady { get; private set; }
    public string? LoadError { get; private set; }
    public int Count { get { lock (_gate) return _files.Count; } }

    /// <summary>Starts loading in the background (once); checks go on meanwhile.</summary>
    public Task StartLoading(SharePointRestClient sharePoint, string libraryUrl, CancellationToken cancellationToken)
    {
        lock (_loadGate) return _loading ??= LoadAsync(sharePoint, libraryUrl, cancellationToken);
    }

    private async Task LoadAsync(SharePointRestClient sharePoint, string libraryUrl, CancellationToken cancellationToken)
    {
        try
        {
            // Kept as digests: the listing of a 100,000-user library costs a few MB, not its names.
            await foreach (var file in sharePoint.ListLibraryFilesAsync(libraryUrl, cancellationToken).ConfigureAwait(false)) Listed(file.Path, file.Modified);
            IsReady = true;
        }
        catch (ProfileSyncException ex)
        {
            LoadError = ex.Message;
        }
        catch (OperationCanceledException)
        {
            // The run stopped: the index stays "unknown", which is what a stopped run needs of it.
            LoadError = "The run stopped before the library's file list was read.";
        }
    }

    /// <summary>True or false once loaded; null while unknown.</summary>
    public bool? Contains(string serverRelativePath)
    {
        if (!IsReady) return null;
        var key = CompactKeySet.Digest(serverRelativePath);
        lock (_gate) return _files.ContainsKey(key);
    }

    /// <summary>When the file was last written, as the listing (or this run's own write) says; null when unknown or absent.</summary>
    public DateTimeOffset? ModifiedOf(string serverRelativePath)
    {
        if (!IsReady) return null;
        var key = CompactKeySet.Digest(serverRelativePath);
        lock (_gate) return _files.TryGetValue(key, out var ticks) && ticks > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
    }

    /// <summary>Whether any of these owners has a set at all; null while unknown.</summary>
    public bool? HasAnySet(IEnumerable<string> owners)
    {
        if (!IsReady) return null;
        lock (_gate) return owners.Any(o => _setsByOwner.TryGetValue(CompactKeySet.Digest(o), out var sets) && sets.Count > 0);
    }

    /// <summary>
    /// Whether one of these owners has a set written after the given one (folder/prefix without the
    /// S/M/L suffix); null when that cannot be told (not loaded, the set not listed, a time not given).
    /// </summary>
    public bool? HasNewerSetThan(IEnumerable<string> owners, string setBase)
    {
        if (!IsReady || OwnerAndSet(setBase + UserPhotoLibrary.MediumSuffix) is not (string owner, _)) return null;
        var named = CompactKeySet.Digest(setBase);
        lock (_gate)
        {
            if (!_setsByOwner.TryGetValue(CompactKeySet.Digest(owner), out var own) || own.FindIndex(s => s.Set == named) is var at && at < 0) return null;
            var namedTicks = own[at].Ticks;
            if (namedTicks <= 0) return null;
            foreach (var o in owners.Append(owner).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (!_setsByOwner.TryGetValue(CompactKeySet.Digest(o), out var sets)) continue;
                foreach (var (set, ticks) in sets)
                {
                    if (set == named) continue;
                    if (ticks <= 0) return null;
                    if (ticks > namedTicks) return true;
                }
            }
            return false;
        }
    }

    /// <summary>A file this run wrote: written now.</summary>
    internal void Added(string serverRelativePath) => Listed(serverRelativePath, DateTimeOffset.UtcNow);

    /// <summary>A file the listing holds, with its Modified time (null: not given, so "unknown").</summary>
    internal void Listed(string serverRelativePath, DateTimeOffset? modified)
    {
        var ticks = modified?.UtcTicks ?? 0;
        lock (_gate)
        {
            _files[CompactKeySet.Digest(serverRelativePath)] = ticks;
            if (OwnerAndSet(serverRelativePath) is not (string owner, string setBase)) return;
            var ownerKey = CompactKeySet.Digest(owner);
            var setKey = CompactKeySet.Digest(setBase);
            if (!_setsByOwner.TryGetValue(ownerKey, out var sets)) _setsByOwner[ownerKey] = sets = new List<(UInt128, long)>(1);
            var at = sets.FindIndex(s => s.Set == setKey);
            if (at < 0) sets.Add((setKey, ticks));
            else if (ticks > sets[at].Ticks) sets[at] = (setKey, ticks);
            if (UserPhotoLibrary.TokenOf(setBase[(setBase.LastIndexOf('/') + 1)..]) is not null)
            {
                if (!_ourSets.TryGetValue(owner, out var ours)) _ourSets[owner] = ours = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                ours.Add(setBase);
            }
        }
    }

    internal void Removed(string serverRelativePath)
    {
        lock (_gate)
        {
            _files.Remove(CompactKeySet.Digest(serverRelativePath));
            if (OwnerAndSet(serverRelativePath) is not (string owner, string setBase)) return;
            // A set is gone once none of its three files is left.
            if (UserPhotoLibrary.SetSuffixes.Any(x => _files.ContainsKey(CompactKeySet.Digest(setBase + x)))) return;
            var setKey = CompactKeySet.Digest(setBase);
            if (_setsByOwner.TryGetValue(CompactKeySet.Digest(owner), out var sets)) sets.RemoveAll(s => s.Set == setKey);
            if (_ourSets.TryGetValue(owner, out var ours)) ours.Remove(setBase);
        }
    }

    /// <summary>
    /// The thumbnail sets ProfileSync wrote for an owner (the Entra object id, or the account-name
    /// prefix it used without one) that still have a file in the library, as folder/prefix without
    /// the S/M/L suffix. Empty until loaded.
    /// </summary>
    public IReadOnlyList<string> SetsOf(string owner)
    {
        if (!IsReady) return Array.Empty<string>();
        lock (_gate) return _ourSets.TryGetValue(owner, out var sets) ? sets.ToList() : Array.Empty<string>();
    }

    /// <summary>(owner, folder/prefix) for a file named as ProfileSync names its thumbnails ({owner}_{12-hex token}_?Thumb.jpg); null for any other file.</summary>
    internal static (string Owner, string SetBase)? OurSet(string path) =>
        OwnerAndSet(path) is (string owner, string setBase) && UserPhotoLibrary.TokenOf(setBase[(setBase.LastIndexOf('/') + 1)..]) is not null ? (owner, setBase) : null;

    /// <summary>
    /// (owner, folder/prefix) for any S/M/L thumbnail: the owner is the file prefix without ProfileSync's
    /// token, so SharePoint's own set (account name or object id) and ProfileSync's share it. Null for other files.
    /// </summary>
    internal static (string Owner, string SetBase)? OwnerAndSet(string path)
    {
        var suffix = UserPhotoLibrary.SetSuffixes.FirstOrDefault(x => path.EndsWith(x, StringComparison.OrdinalIgnoreCase));
        if (suffix is null) return null;
        var setBase = path[..^suffix.Length];
        var prefix = setBase[(setBase.LastIndexOf('/') + 1)..];
        var owner = UserPhotoLibrary.TokenOf(prefix) is null ? prefix : prefix[..prefix.LastIndexOf('_')];
        return owner.Length == 0 ? null : (owner, setBase);
    }
}
