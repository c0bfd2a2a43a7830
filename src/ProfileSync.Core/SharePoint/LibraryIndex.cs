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
            await foreach (var file in sharePoint.ListLibraryFilesAsync(libraryUrl, cancellationToken).ConfigureAwait(false)) _files.Add(file);
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

    internal void Added(string serverRelativePath) => _files.Add(serverRelativePath);
    internal void Removed(string serverRelativePath) => _files.Remove(serverRelativePath);
}
