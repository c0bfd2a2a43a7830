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
    private readonly HashSet<string> _files = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();
    private Task? _loading;

    public bool IsReady { get; private set; }
    public string? LoadError { get; private set; }
    public int Count { get { lock (_gate) return _files.Count; } }

    /// <summary>Starts loading in the background (once); checks go on meanwhile.</summary>
    public Task StartLoading(SharePointRestClient sharePoint, string libraryUrl, CancellationToken cancellationToken)
    {
        lock (_gate) return _loading ??= LoadAsync(sharePoint, libraryUrl, cancellationToken);
    }

    private async Task LoadAsync(SharePointRestClient sharePoint, string libraryUrl, CancellationToken cancellationToken)
    {
        try
        {
            var files = new List<string>();
            await foreach (var file in sharePoint.ListLibraryFilesAsync(libraryUrl, cancellationToken).ConfigureAwait(false)) files.Add(file);
            lock (_gate) foreach (var f in files) _files.Add(f);
            IsReady = true;
        }
        catch (ProfileSyncException ex)
        {
            LoadError = ex.Message;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>True or false once loaded; null while unknown.</summary>
    public bool? Contains(string serverRelativePath)
    {
        if (!IsReady) return null;
        lock (_gate) return _files.Contains(serverRelativePath);
    }

    internal void Added(string serverRelativePath) { lock (_gate) _files.Add(serverRelativePath); }
    internal void Removed(string serverRelativePath) { lock (_gate) _files.Remove(serverRelativePath); }
}
