using ProfileSync.Core.Identity;

namespace ProfileSync.Core.SharePoint;

/// <summary>Where a user's thumbnails are, read from their PictureURL.</summary>
public sealed record ThumbnailLocation(string FolderServerRelativeUrl, string FilePrefix, string MediumPath, string LargePath, bool FollowsNamingScheme)
{
    public string SmallPath => FolderServerRelativeUrl + "/" + FilePrefix + UserPhotoLibrary.SmallSuffix;

    /// <summary>S, M and L: the set a sync writes and a replacement or removal recycles.</summary>
    public IReadOnlyList<string> SetPaths => new[] { SmallPath, MediumPath, LargePath };

    /// <summary>The photo token in a name ProfileSync wrote ({base}_{token}_MThumb.jpg), or null.</summary>
    public string? NameToken => UserPhotoLibrary.TokenOf(FilePrefix);
}

/// <summary>
/// The User Photos library of the My Site host: finds the photo folder (its name follows the tenant's
/// language, so it is discovered, never assumed), maps PictureURL values to files, and builds the
/// PictureURL of thumbnails ProfileSync writes.
/// </summary>
public sealed class UserPhotoLibrary
{
    public const string DefaultLibraryUrl = "/User Photos";
    public const string SmallSuffix = "_SThumb.jpg", MediumSuffix = "_MThumb.jpg", LargeSuffix = "_LThumb.jpg";
    internal static readonly string[] SetSuffixes = { SmallSuffix, MediumSuffix, LargeSuffix };

    private readonly SharePointRestClient _sharePoint;
    private readonly Uri _mySiteHost;
    private readonly string _libraryUrl;
    private readonly string? _configuredFolder;
    private readonly SemaphoreSlim _discoveryLock = new(1, 1);
    private string? _discoveredFolder;

    public UserPhotoLibrary(SharePointRestClient sharePoint, Uri mySiteHost, string? photoFolder = null, string libraryUrl = DefaultLibraryUrl)
    {
        _sharePoint = sharePoint;
        _mySiteHost = mySiteHost;
        _libraryUrl = "/" + libraryUrl.Trim('/');
        _configuredFolder = string.IsNullOrWhiteSpace(photoFolder) ? null : "/" + photoFolder.Trim().Trim('/');
    }

    public string LibraryUrl => _libraryUrl;
    /// <summary>The admin named the photo folder (-PhotoFolder): new thumbnails go there, whatever folder the old ones are in.</summary>
    public bool HasConfiguredFolder => _configuredFolder is not null;

    /// <summary>
    /// The token ProfileSync puts into the names of the thumbnails it writes: 12 hex digits of
    /// SHA-256 over the user and the Exchange photo's etag. A profile whose PictureURL carries the
    /// token of the current etag points at thumbnails of the current photo, with no download.
    /// </summary>
    public static string PhotoToken(UserRef user, string etag) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(user.UserPrincipalName.ToLowerInvariant() + "\n" + etag)))[..TokenLength].ToLowerInvariant();

    private const int TokenLength = 12;

    internal static string? TokenOf(string prefix)
    {
        var sep = prefix.LastIndexOf('_');
        if (sep <= 0 || prefix.Length - sep - 1 != TokenLength) return null;
        var token = prefix[(sep + 1)..];
        return token.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f') ? token : null;
    }

    /// <summary>Verbose text on how the folder was found, for the cmdlets to show.</summary>
    public string? DiscoveryNote { get; private set; }

    /// <summary>
    /// Maps a PictureURL to the user's thumbnails. Null when the URL is outside the tenant's My Site
    /// host: such a URL is someone else's data and is never fetched with a token.
    /// </summary>
    public ThumbnailLocation? Locate(string pictureUrl)
    {
        if (!Uri.TryCreate(pictureUrl, UriKind.Absolute, out var uri) || !UrlText.SameAuthority(uri, _mySiteHost))
            return null;
        var path = UrlText.ServerRelativePath(uri);
        var slash = path.LastIndexOf('/');
        if (slash <= 0) return null;
        var folder = path[..slash];
        var file = path[(slash + 1)..];
        if (file.EndsWith(MediumSuffix, StringComparison.OrdinalIgnoreCase))
        {
            var prefix = file[..^MediumSuffix.Length];
            return new ThumbnailLocation(folder, prefix, path, folder + "/" + prefix + LargeSuffix, FollowsNamingScheme: true);
        }
        // SharePoint accepts any URL in PictureURL; without the naming scheme the file itself is all there is to compare.
        return new ThumbnailLocation(folder, "", path, path, FollowsNamingScheme: false);
    }

    /// <summary>True when the folder is inside the User Photos library (where ProfileSync may write).</summary>
    public bool IsInLibrary(string folderServerRelativeUrl) =>
        folderServerRelativeUrl.StartsWith(_libraryUrl + "/", StringComparison.OrdinalIgnoreCase);

    /// <summary>The absolute PictureURL of a server-relative file path on the My Site host, escaped, no query string.</summary>
    public string PictureUrlFor(string serverRelativePath) =>
        _mySiteHost.GetLeftPart(UriPartial.Authority) + UrlText.EscapePath(serverRelativePath);

    /// <summary>The photo folder for users whose PictureURL gives none. Discovered once per connection.</summary>
    public async Task<string> GetPhotoFolderAsync(CancellationToken cancellationToken)
    {
        if (_configuredFolder is not null) return _configuredFolder;
        if (_discoveredFolder is not null) return _discoveredFolder;
        await _discoveryLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_discoveredFolder is not null) return _discoveredFolder;
            var folders = (await _sharePoint.ListFoldersAsync(_libraryUrl, cancellationToken).ConfigureAwait(false))
                .Where(f => !f.Name.Equals("Forms", StringComparison.OrdinalIgnoreCase))
                .OrderByDescending(f => f.ItemCount)
                .ToList();
            if (folders.Count == 0)
                throw new ProfileSyncException(ErrorIds.PhotoFolderNotFound, FailureKind.NotFound,
                    $"The '{_libraryUrl}' library of {_mySiteHost.Host} has no photo folder. SharePoint creates it when it first stores a profile photo.")
                { RecommendedAction = "Have one user open their profile once, or pass -PhotoFolder '/User Photos/Profile Pictures' (in the tenant's language) to Connect-ProfileSync." };
            _discoveredFolder = folders[0].ServerRelativeUrl;
            DiscoveryNote = folders.Count == 1
                ? $"Photo folder discovered: '{_discoveredFolder}'."
                : $"Photo folder discovered: '{_discoveredFolder}' ({folders[0].ItemCount} items), the fullest of {string.Join(", ", folders.Select(f => $"'{f.Name}'"))}. Pass -PhotoFolder to choose another.";
            return _discoveredFolder;
        }
        finally
        {
            _discoveryLock.Release();
        }
    }
}
