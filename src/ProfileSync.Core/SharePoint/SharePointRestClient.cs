using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;

namespace ProfileSync.Core.SharePoint;

/// <summary>
/// SharePoint REST over the shared pipeline: profiles (read on the My Site host, written on the
/// admin site) and files of the User Photos library. Owns every SharePoint URL ProfileSync builds;
/// <see cref="SharePointWireFormat"/> owns reading the answers.
/// </summary>
public sealed class SharePointRestClient
{
    private const string PeopleManager = "/_api/SP.UserProfiles.PeopleManager";
    private static readonly MediaTypeWithQualityHeaderValue NoMetadata = MediaTypeWithQualityHeaderValue.Parse("application/json;odata=nometadata");

    private readonly HttpClient _http;
    private readonly ServiceEndpoints _endpoints;

    public SharePointRestClient(ServiceHttpPipeline pipeline, ServiceEndpoints endpoints)
    {
        _http = pipeline.Client;
        _endpoints = endpoints;
    }

    /// <summary>Reads a profile. Null when the user has no SharePoint profile.</summary>
    public async Task<SharePointProfile?> GetProfileAsync(UserRef user, CancellationToken cancellationToken)
    {
        var url = Site(_endpoints.MySiteHost, $"{PeopleManager}/GetPropertiesFor(accountName=@v)?@v={UrlText.ODataAliasValue(user.ClaimsAccountName)}");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(NoMetadata);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        // Some farms answer an unknown account with 404 or 500 "user not found" rather than a null object.
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode)
        {
            var (code, message) = SharePointWireFormat.ReadError(body);
            if (message is not null && message.Contains("not found", StringComparison.OrdinalIgnoreCase) && code?.Contains("UserProfile", StringComparison.OrdinalIgnoreCase) == true)
                return null;
            throw Failure(response.StatusCode, body, $"reading the SharePoint profile of '{user}'", ServiceFailure.Need.SharePointRead);
        }
        try
        {
            return SharePointWireFormat.ReadProfile(body);
        }
        catch (JsonException ex)
        {
            throw new ProfileSyncException(ErrorIds.SharePointRequestFailed, FailureKind.InvalidData,
                $"SharePoint answered the profile read for '{user}' with something that is not JSON.", ex);
        }
    }

    /// <summary>Writes one profile property of another user. Goes to the admin site, which needs SharePoint admin rights.</summary>
    public async Task SetProfilePropertyAsync(UserRef user, string propertyName, string value, CancellationToken cancellationToken)
    {
        var url = Site(_endpoints.SharePointAdmin, $"{PeopleManager}/SetSingleValueProfileProperty");
        var payload = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["accountName"] = user.ClaimsAccountName,
            ["propertyName"] = propertyName,
            ["propertyValue"] = value,
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(payload, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json;odata=nometadata");
        request.Headers.Accept.Add(NoMetadata);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (SharePointWireFormat.ReadError(body).Code?.Contains("UserNotFoundException", StringComparison.Ordinal) == true)
                throw new ProfileSyncException(ErrorIds.SharePointProfileNotFound, FailureKind.NotFound,
                    $"'{user}' has no SharePoint profile any more (deleted during the run?); {propertyName} was not set.")
                { StatusCode = (int)response.StatusCode, RecommendedAction = "Nothing to do if the user left; otherwise run again once SharePoint has the profile." };
            var (code, message) = SharePointWireFormat.ReadError(body);
            if (ProfileWriteRights.IsRefusal((int)response.StatusCode, code))
                throw ProfileWriteRights.Refused((int)response.StatusCode, code, message, propertyName, user.UserPrincipalName, SignIn);
            throw Failure(response.StatusCode, body, $"setting {propertyName} of '{user}'", ServiceFailure.Need.SharePointAdmin);
        }
    }

    /// <summary>Whose rights the SharePoint token carries; set at connect time, for the advice a refused write gives.</summary>
    public SignIn.SignInKind SignIn { get; set; }

    /// <summary>The folders of a library's root folder (e.g. '/User Photos'), with how many items each holds.</summary>
    public async Task<IReadOnlyList<PhotoFolder>> ListFoldersAsync(string serverRelativeUrl, CancellationToken cancellationToken)
    {
        var url = Site(_endpoints.MySiteHost,
            $"/_api/web/GetFolderByServerRelativePath(decodedurl=@a1)/Folders?@a1={UrlText.ODataAliasValue(serverRelativeUrl)}&$select=Name,ServerRelativeUrl,ItemCount");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(NoMetadata);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return Array.Empty<PhotoFolder>();
        if (!response.IsSuccessStatusCode) throw Failure(response.StatusCode, body, $"listing the folders of '{serverRelativeUrl}'", ServiceFailure.Need.SharePointRead);
        return SharePointWireFormat.ReadFolders(body);
    }

    /// <summary>Downloads a file of the My Site host by its server-relative path. Null when it does not exist.</summary>
    public async Task<byte[]?> DownloadFileAsync(string serverRelativePath, long maxBytes, CancellationToken cancellationToken)
    {
        var url = Site(_endpoints.MySiteHost, $"/_api/web/GetFileByServerRelativePath(decodedurl=@a1)/$value?@a1={UrlText.ODataAliasValue(serverRelativePath)}");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var (code, _) = SharePointWireFormat.ReadError(body);
            // SharePoint reports a missing file as FileNotFoundException (HRESULT -2147024894), sometimes with a 500.
            if (code is not null && code.Contains("FileNotFound", StringComparison.OrdinalIgnoreCase)) return null;
            throw Failure(response.StatusCode, body, $"downloading '{serverRelativePath}'", ServiceFailure.Need.SingleResource);
        }
        return await CappedContent.ReadAsync(response.Content, maxBytes, _ => TooLarge(serverRelativePath, maxBytes), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Uploads (overwriting) a file into a folder of the My Site host.</summary>
    public async Task UploadFileAsync(string folderServerRelativeUrl, string fileName, byte[] content, CancellationToken cancellationToken)
    {
        var url = Site(_endpoints.MySiteHost,
            $"/_api/web/GetFolderByServerRelativePath(decodedurl=@a1)/Files/AddUsingPath(decodedurl=@a2,overwrite=true)?@a1={UrlText.ODataAliasValue(folderServerRelativeUrl)}&@a2={UrlText.ODataAliasValue(fileName)}");
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(content) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Accept.Add(NoMetadata);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var (code, message) = SharePointWireFormat.ReadError(body);
            if (SharePointWireFormat.IsViewThreshold((int)response.StatusCode, code))
                throw await FolderTooLargeAsync(folderServerRelativeUrl, (int)response.StatusCode, code, message, cancellationToken).ConfigureAwait(false);
            throw Failure(response.StatusCode, body, $"uploading '{fileName}' to '{folderServerRelativeUrl}'", ServiceFailure.Need.SharePointAdmin);
        }
    }

    /// <summary>
    /// The list view threshold met on an upload: a property of the folder, not a throttle, so it is
    /// not retried and it stops the run (every upload into that folder would meet it). The folder's
    /// item count is read for the message when SharePoint gives it.
    /// </summary>
    private async Task<ProfileSyncException> FolderTooLargeAsync(string folder, int status, string? code, string? message, CancellationToken cancellationToken)
    {
        var slash = folder.TrimEnd('/').LastIndexOf('/');
        int? items = null;
        if (slash > 0)
        {
            try
            {
                items = (await ListFoldersAsync(folder[..slash], cancellationToken).ConfigureAwait(false))
                    .FirstOrDefault(f => f.ServerRelativeUrl.Equals(folder.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))?.ItemCount;
            }
            catch (ProfileSyncException)
            {
                items = null; // the size is only for the message; the refusal stands without it
            }
        }
        var size = items is int n ? $"it holds {n:N0} items" : "its size could not be read";
        return new ProfileSyncException(ErrorIds.PhotoFolderTooLarge, FailureKind.ServiceError,
            $"SharePoint refused to add a file to '{folder}' ({status} {code}: {message ?? "no error text"}); {size}, above the list view threshold. Retrying does not help.")
        {
            Service = "SharePoint", StatusCode = status, ServiceErrorCode = code, StopsRun = true,
            RecommendedAction = "Create a new folder in the My Site host's 'User Photos' library and give it to Connect-ProfileSync -PhotoFolder '/User Photos/<folder>'; new thumbnails are written there.",
        };
    }

    /// <summary>Moves a file of the My Site host to the recycle bin (recoverable). False when it was already gone.</summary>
    public async Task<bool> RecycleFileAsync(string serverRelativePath, CancellationToken cancellationToken)
    {
        var url = Site(_endpoints.MySiteHost, $"/_api/web/GetFileByServerRelativePath(decodedurl=@a1)/recycle()?@a1={UrlText.ODataAliasValue(serverRelativePath)}");
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.Accept.Add(NoMetadata);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode) return true;
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var (code, _) = SharePointWireFormat.ReadError(body);
        if (response.StatusCode == HttpStatusCode.NotFound || code?.Contains("FileNotFound", StringComparison.OrdinalIgnoreCase) == true) return false;
        throw Failure(response.StatusCode, body, $"recycling '{serverRelativePath}'", ServiceFailure.Need.SingleResource);
    }

    /// <summary>
    /// The server-relative paths of every file in a library (all folders), 5,000 a request, as a
    /// stream: the list items API pages with odata.nextLink (verbose: __next).
    /// </summary>
    public async IAsyncEnumerable<LibraryFile> ListLibraryFilesAsync(string libraryUrl, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Uri? next = Site(_endpoints.MySiteHost, $"/_api/web/GetList(@a1)/items?@a1={UrlText.ODataAliasValue(libraryUrl)}&$select=FileRef,FSObjType,Modified&$top=5000");
        while (next is not null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            request.Headers.Accept.Add(NoMetadata);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw Failure(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false), $"listing the files of '{libraryUrl}'", ServiceFailure.Need.SharePointRead);
            IReadOnlyList<LibraryFile> files;
            string? nextLink;
            try
            {
                using var doc = await ParseAsync(response, cancellationToken).ConfigureAwait(false);
                (files, nextLink) = SharePointWireFormat.ReadFileRefs(doc);
            }
            catch (JsonException ex)
            {
                throw new ProfileSyncException(ErrorIds.SharePointRequestFailed, FailureKind.InvalidData,
                    $"SharePoint answered the file list of '{libraryUrl}' with something that is not a list of items: {ex.Message}", ex)
                { Service = "SharePoint", StatusCode = (int)response.StatusCode, StopsRun = false };
            }
            foreach (var file in files) yield return file;
            // The next link must stay on the My Site host: a token is never sent anywhere else anyway, but a foreign link is no page of ours.
            next = nextLink is not null && Uri.TryCreate(_endpoints.MySiteHost, nextLink, out var n) && UrlText.SameAuthority(n, _endpoints.MySiteHost) ? n : null;
        }
    }

    /// <summary>
    /// Proves the right to write other users' profiles before a sync writes anything: only SharePoint
    /// administrators (or an app with full control) may open the tenant admin site. A 401/403 stops the run.
    /// </summary>
    public async Task CheckAdminAccessAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Site(_endpoints.SharePointAdmin, "/_api/web?$select=Title"));
        request.Headers.Accept.Add(NoMetadata);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        throw Failure(response.StatusCode, body, $"opening the SharePoint admin site {_endpoints.SharePointAdmin.Host} (writing profiles needs it)", ServiceFailure.Need.SharePointAdmin);
    }

    /// <summary>The People result source ("Local People Results") of SharePoint search.</summary>
    public const string PeopleResultSourceId = "b09a7990-05ea-4af9-81ef-edfab16c4e31";

    /// <summary>
    /// The properties a People search asks for: only what a check takes from the index (a write reads the
    /// live profile), so a 500-row page stays small. AccountName, PreferredName and PictureURL are People
    /// managed properties; whether the index serves the placeholder state and the Entra object id under
    /// these (profile property) names is unconfirmed against a real tenant: a row without them reads as
    /// unknown (null), never as a value.
    /// </summary>
    internal static readonly string[] PeopleSearchProperties =
    {
        "AccountName", "PreferredName", SharePointWireFormat.PictureUrlProperty, SharePointWireFormat.PlaceholderStateProperty, SharePointWireFormat.ObjectIdProperty,
    };

    /// <summary>
    /// One page of SharePoint People search on the My Site host: GET /_api/search/query?querytext='*'
    /// &amp;sourceid='{People}'&amp;selectproperties=...&amp;rowlimit=N&amp;startrow=M (facts doc 5a). The service
    /// gives at most 500 rows a page. It answers from the search index, hours behind the profiles. A 403
    /// is AccessDenied that does NOT stop a run: search is an optional shortcut, per-user reads still work.
    /// </summary>
    public async Task<PeopleSearchPage> SearchPeopleAsync(int startRow, int rowLimit, CancellationToken cancellationToken)
    {
        var url = Site(_endpoints.MySiteHost,
            "/_api/search/query?querytext=" + UrlText.ODataAliasValue("*")
            + "&sourceid=" + UrlText.ODataAliasValue(PeopleResultSourceId)
            + "&selectproperties=" + UrlText.ODataAliasValue(string.Join(',', PeopleSearchProperties))
            + "&trimduplicates=false"
            + "&rowlimit=" + rowLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + "&startrow=" + startRow.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(NoMetadata);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var doing = $"reading SharePoint People search (rows from {startRow})";
        var body = response.IsSuccessStatusCode ? "" : await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Forbidden)
        {
            var failure = Failure(response.StatusCode, body, doing, ServiceFailure.Need.SingleResource);
            throw new ProfileSyncException(failure.ErrorId, failure.Kind, failure.Message + " People search is refused to this sign-in.")
            {
                Service = failure.Service, StatusCode = failure.StatusCode, ServiceErrorCode = failure.ServiceErrorCode, StopsRun = false,
                RecommendedAction = "Nothing is lost: profiles are read one by one instead. To use search, grant " + ServiceFailure.SharePointReadPermission + ".",
            };
        }
        if (!response.IsSuccessStatusCode) throw Failure(response.StatusCode, body, doing, ServiceFailure.Need.SharePointRead);
        try
        {
            using var doc = await ParseAsync(response, cancellationToken).ConfigureAwait(false);
            return SharePointWireFormat.ReadPeopleSearch(doc);
        }
        catch (JsonException ex)
        {
            throw new ProfileSyncException(ErrorIds.SharePointRequestFailed, FailureKind.InvalidData,
                $"SharePoint answered People search (rows from {startRow}) with something that is not a search result: {ex.Message}", ex)
            { Service = "SharePoint", StatusCode = (int)response.StatusCode };
        }
    }

    /// <summary>Opens the My Site host's root web: its Url as SharePoint gives it (null when the answer names none).</summary>
    public async Task<string?> GetMySiteUrlAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Site(_endpoints.MySiteHost, "/_api/web?$select=Title,Url"));
        request.Headers.Accept.Add(NoMetadata);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw Failure(response.StatusCode, body, $"opening the My Site host {_endpoints.MySiteHost.Host}", ServiceFailure.Need.SharePointRead);
        try
        {
            return SharePointWireFormat.ReadWebUrl(body);
        }
        catch (JsonException ex)
        {
            throw new ProfileSyncException(ErrorIds.SharePointRequestFailed, FailureKind.InvalidData,
                $"The My Site host {_endpoints.MySiteHost.Host} answered with something that is not JSON: is -MySiteHostUrl a SharePoint site?", ex)
            { Service = "SharePoint", StatusCode = (int)response.StatusCode };
        }
    }

    private static Uri Site(Uri host, string pathAndQuery) => new(host, pathAndQuery);

    /// <summary>
    /// Parses a large answer (a page of 500 profiles or 5,000 files) straight off the network stream into
    /// pooled buffers: buffering it first, or reading it as a string, makes several large-object-heap
    /// allocations per page, which a 100,000-user run piles up until the next full collection. A
    /// connection lost mid-answer is not retried here: it fails the bulk read (ServiceUnreachable,
    /// not stopping the run), and the run reads per user instead.
    /// </summary>
    private static async Task<JsonDocument> ParseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new ProfileSyncException(ErrorIds.ServiceUnreachable, FailureKind.ConnectionError,
                $"SharePoint's answer from {response.RequestMessage?.RequestUri?.Host} broke off before its end: {ex.Message}", ex)
            { Service = "SharePoint", StatusCode = (int)response.StatusCode, StopsRun = false };
        }
    }

    private static ProfileSyncException TooLarge(string path, long maxBytes) =>
        new(ErrorIds.PhotoUnreadable, FailureKind.InvalidData, $"'{path}' is larger than {maxBytes / 1024 / 1024} MB; ProfileSync does not read it.")
        { RecommendedAction = "Run Sync-ProfilePhoto -Force for this user to replace it with thumbnails of the Exchange photo." };

    private static ProfileSyncException Failure(HttpStatusCode status, string body, string doing, ServiceFailure.Need need)
    {
        var (code, message) = SharePointWireFormat.ReadError(body);
        return ServiceFailure.From(ServiceKind.SharePoint, (int)status, code, message ?? (body.Length > 200 ? body[..200] : body), doing, need);
    }
}
