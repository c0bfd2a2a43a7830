using ProfileSync.Core.Identity;

namespace ProfileSync.Core.SharePoint;

/// <summary>
/// Which files the User Photos library holds, read once for a bulk run with the list items API (one
/// request per 5,000 files, ~0.001 requests per user), then kept current with the run's own writes.
/// Lets a check confirm that the thumbnails a profile points at exist without downloading them.
/// Until loaded (or if loading failed) it answers "unknown" and checks download as before.
/// </summary>
public sealed class LibraryIndex
{
    private readonly CompactKeySet _files = new();
    /// <summary>The sets ProfileSync wrote (names with its photo token), by owner (object id or account-name prefix): the only files it may clear away.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentDictionary<string, byte>> _ourSets = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();
    private Task? _loading;

    public bool IsReady { get; private set; }
    public string? LoadError { get; private set; }
    public int Count => _files.Count;

    /// <summary>Starts loading in the background (once); checks go on meanwhile.</summary>
    public Task StartLoading(SharePointRestClient sharePoint, string libraryUrl, CancellationToken cancellationToken)
    {
        lock (_gate) return _loading ??= LoadAsync(sharePoint, libraryUrl, cancellationToken);
    }

    private async Task LoadAsync(SharePointRestClient sharePoint, string libraryUrl, CancellationToken cancellationToken)
    {
        try
        {
            // Kept as digests: the listing of a 100,000-user library costs a few MB, not its names.
            await foreach (var file in sharePoint.ListLibraryFilesAsync(libraryUrl, cancellationToken).ConfigureAwait(false)) Added(file);
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
        return _files.Contains(serverRelativePath);
    }

    internal void Added(string serverRelativePath)
    {
        _files.Add(serverRelativePath);
        if (OurSet(serverRelativePath) is (string owner, string setBase)) _ourSets.GetOrAdd(owner, _ => new(StringComparer.OrdinalIgnoreCase)).TryAdd(setBase, 0);
    }

    internal void Removed(string serverRelativePath) => _files.Remove(serverRelativePath);

    /// <summary>
    /// The thumbnail sets ProfileSync wrote for an owner (the Entra object id, or the account-name
    /// prefix it used without one) that still have a file in the library, as folder/prefix without
    /// the S/M/L suffix. Empty until loaded.
    /// </summary>
    public IReadOnlyList<string> SetsOf(string owner)
    {
        if (!IsReady || !_ourSets.TryGetValue(owner, out var sets)) return Array.Empty<string>();
        return sets.Keys.Where(b => UserPhotoLibrary.SetSuffixes.Any(suffix => _files.Contains(b + suffix))).ToList();
    }

    /// <summary>(owner, folder/prefix) for a file named as ProfileSync names its thumbnails ({owner}_{12-hex token}_?Thumb.jpg); null for any other file.</summary>
    internal static (string Owner, string SetBase)? OurSet(string path)
    {
        var suffix = UserPhotoLibrary.SetSuffixes.FirstOrDefault(x => path.EndsWith(x, StringComparison.OrdinalIgnoreCase));
        if (suffix is null) return null;
        var setBase = path[..^suffix.Length];
        var slash = setBase.LastIndexOf('/');
        var prefix = setBase[(slash + 1)..];
        if (UserPhotoLibrary.TokenOf(prefix) is null) return null;
        var owner = prefix[..prefix.LastIndexOf('_')];
        return owner.Length == 0 ? null : (owner, setBase);
    }
}
