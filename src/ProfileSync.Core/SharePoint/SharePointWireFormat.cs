using System.Text.Json;

namespace ProfileSync.Core.SharePoint;

/// <summary>A user's profile as SharePoint's User Profile service holds it: the picture properties ProfileSync reads and writes.</summary>
public sealed record SharePointProfile(
    string AccountName,
    string? PictureUrl,
    string? PlaceholderState,
    string? PictureTimestamp,
    string? ExchangeSyncState,
    string? ObjectId)
{
    /// <summary>The name SharePoint shows (PreferredName): text anyone with profile rights may have written.</summary>
    public string? DisplayName { get; init; }

    /// <summary>'1' means SharePoint shows a grey placeholder, whatever PictureURL says.</summary>
    public bool ShowsPlaceholder => PlaceholderState == "1";
}

/// <summary>One file of the photo library as its listing gives it: the server-relative path and when it was last written (null when the answer did not say).</summary>
public sealed record LibraryFile(string Path, DateTimeOffset? Modified);

public sealed record PhotoFolder(string Name, string ServerRelativeUrl, int ItemCount);

/// <summary>
/// One profile as SharePoint People search's INDEX holds it (facts doc 5a): hours behind the profile,
/// so it says which users MAY need a look; a per-user profile read confirms.
/// </summary>
public sealed record IndexedProfile(
    string UserPrincipalName,
    string AccountName,
    string? PictureUrl,
    string? PlaceholderState,
    string? PictureTimestamp,
    string? ObjectId)
{
    /// <summary>UserProfile_GUID: the profile's own id (not the Entra object id).</summary>
    public string? ProfileGuid { get; init; }
    /// <summary>PreferredName, as the index holds it.</summary>
    public string? DisplayName { get; init; }
    /// <summary>'1' means SharePoint shows a grey placeholder, whatever PictureURL says.</summary>
    public bool ShowsPlaceholder => PlaceholderState == "1";
}

/// <summary>One page of a People search: TotalRows (the whole result), RowCount and the rows of this page.</summary>
public sealed record PeopleSearchPage(int TotalRows, int RowCount, IReadOnlyList<IndexedProfile> Profiles);

/// <summary>
/// The one reader of SharePoint REST answers. Handles odata=verbose ({"d": ..., "results": [...]}),
/// minimalmetadata and nometadata (flat, "value": [...]), and the ways a missing profile comes back.
/// </summary>
public static class SharePointWireFormat
{
    public const string PictureUrlProperty = "PictureURL";
    public const string PlaceholderStateProperty = "SPS-PicturePlaceholderState";
    public const string PictureTimestampProperty = "SPS-PictureTimestamp";
    public const string ExchangeSyncStateProperty = "SPS-PictureExchangeSyncState";
    public const string ObjectIdProperty = "msOnline-ObjectId";

    /// <summary>Reads a GetPropertiesFor answer. Null means "no profile": the null answer, or no account name and no properties.</summary>
    public static SharePointProfile? ReadProfile(string json)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        using var doc = JsonDocument.Parse(json);
        var root = Unwrap(doc.RootElement);
        if (root.ValueKind != JsonValueKind.Object) return null;
        if (root.TryGetProperty("odata.null", out var isNull) && isNull.ValueKind == JsonValueKind.True) return null;

        var accountName = String(root, "AccountName");
        var properties = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (root.TryGetProperty("UserProfileProperties", out var list))
        {
            foreach (var item in Items(list))
            {
                var key = String(item, "Key");
                if (key is not null) properties[key] = String(item, "Value");
            }
        }
        if (string.IsNullOrEmpty(accountName) && properties.Count == 0) return null;

        // The property decides; the top-level PictureUrl can be null while the property is filled, so only the property is read.
        var pictureUrl = properties.GetValueOrDefault(PictureUrlProperty);
        if (string.IsNullOrWhiteSpace(pictureUrl)) pictureUrl = String(root, "PictureUrl");
        return new SharePointProfile(
            accountName ?? "",
            string.IsNullOrWhiteSpace(pictureUrl) ? null : StripQuery(pictureUrl.Trim()),
            properties.GetValueOrDefault(PlaceholderStateProperty),
            properties.GetValueOrDefault(PictureTimestampProperty),
            properties.GetValueOrDefault(ExchangeSyncStateProperty),
            properties.GetValueOrDefault(ObjectIdProperty))
        {
            DisplayName = String(root, "DisplayName") is { Length: > 0 } shown ? shown : properties.GetValueOrDefault("PreferredName"),
        };
    }

    public static IReadOnlyList<PhotoFolder> ReadFolders(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = Unwrap(doc.RootElement);
        var items = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("value", out var value) ? value : root;
        var folders = new List<PhotoFolder>();
        foreach (var item in Items(items))
        {
            var name = String(item, "Name");
            var url = String(item, "ServerRelativeUrl");
            if (name is null || url is null) continue;
            var count = item.TryGetProperty("ItemCount", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : 0;
            folders.Add(new PhotoFolder(name, url, count));
        }
        return folders;
    }

    /// <summary>Reads a list items page: file paths (folders skipped) and the link to the next page, in either shape.</summary>
    public static (IReadOnlyList<LibraryFile> Files, string? NextLink) ReadFileRefs(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return ReadFileRefs(doc);
    }

    /// <summary>The same, from a document parsed off the response stream (a 5,000-item page is never one string).</summary>
    public static (IReadOnlyList<LibraryFile> Files, string? NextLink) ReadFileRefs(JsonDocument doc)
    {
        var root = Unwrap(doc.RootElement);
        var items = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("value", out var value) ? value : root;
        var files = new List<LibraryFile>();
        foreach (var item in Items(items))
        {
            var isFolder = item.TryGetProperty("FSObjType", out var t) && (t.ValueKind == JsonValueKind.Number ? t.GetInt32() == 1 : t.ToString() == "1");
            if (isFolder || String(item, "FileRef") is not string path) continue;
            // Modified: ISO 8601 in UTC ("2026-11-29T17:00:00Z"); absent or unreadable reads as unknown.
            var modified = String(item, "Modified") is string m && DateTimeOffset.TryParse(m, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : (DateTimeOffset?)null;
            files.Add(new LibraryFile(path, modified));
        }
        var next = root.ValueKind == JsonValueKind.Object ? String(root, "odata.nextLink") ?? String(root, "@odata.nextLink") ?? String(root, "__next") : null;
        return (files, next);
    }

    /// <summary>
    /// Reads a search/query answer (People result source). Shape (SharePoint dev docs "SharePoint Search
    /// REST API overview" and its sample answer; pnpcore's ProcessSearchResults reads the same):
    /// PrimaryQueryResult.RelevantResults { TotalRows, RowCount, Table.Rows[].Cells[] of {Key, Value,
    /// ValueType} }. nometadata: flat, lists are arrays. verbose: {"d": {"query": {...}}}, every list
    /// {"results": [...]}, numbers may come as strings. Cell values are strings or null (ValueType "Null").
    /// Rows without a claims AccountName are skipped (not a person ProfileSync can name).
    /// </summary>
    public static PeopleSearchPage ReadPeopleSearch(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return ReadPeopleSearch(doc);
    }

    /// <summary>The same, from a document parsed off the response stream (a 500-row page is never one string).</summary>
    public static PeopleSearchPage ReadPeopleSearch(JsonDocument doc)
    {
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("d", out var d))
            root = d.ValueKind == JsonValueKind.Object && d.TryGetProperty("query", out var q) ? q : d;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("PrimaryQueryResult", out var primary) || primary.ValueKind != JsonValueKind.Object
            || !primary.TryGetProperty("RelevantResults", out var relevant) || relevant.ValueKind != JsonValueKind.Object)
            throw new JsonException("The answer has no PrimaryQueryResult.RelevantResults.");

        var profiles = new List<IndexedProfile>();
        var rowCount = 0;
        if (relevant.TryGetProperty("Table", out var table) && table.ValueKind == JsonValueKind.Object && table.TryGetProperty("Rows", out var rows))
        {
            foreach (var row in Items(rows))
            {
                rowCount++;
                if (!row.TryGetProperty("Cells", out var cellList)) continue;
                var cells = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                foreach (var cell in Items(cellList))
                    if (String(cell, "Key") is string key) cells[key] = String(cell, "ValueType") == "Null" ? null : String(cell, "Value");
                var account = cells.GetValueOrDefault("AccountName");
                var upn = UpnOfClaims(account);
                if (upn is null) continue;
                var picture = cells.GetValueOrDefault(PictureUrlProperty);
                profiles.Add(new IndexedProfile(
                    upn,
                    account!,
                    string.IsNullOrWhiteSpace(picture) ? null : StripQuery(picture.Trim()),
                    Blank(cells.GetValueOrDefault(PlaceholderStateProperty)),
                    Blank(cells.GetValueOrDefault(PictureTimestampProperty)),
                    Blank(cells.GetValueOrDefault(ObjectIdProperty)))
                {
                    ProfileGuid = Blank(cells.GetValueOrDefault("UserProfile_GUID")),
                    DisplayName = Blank(cells.GetValueOrDefault("PreferredName")),
                });
            }
        }
        var total = Int(relevant, "TotalRows") ?? profiles.Count;
        return new PeopleSearchPage(total, Int(relevant, "RowCount") ?? rowCount, profiles);
    }

    /// <summary>The UPN of a claims account name (i:0#.f|membership|upn); null when it is not one.</summary>
    private static string? UpnOfClaims(string? account)
    {
        if (string.IsNullOrWhiteSpace(account)) return null;
        var bar = account.LastIndexOf('|');
        var upn = (bar >= 0 ? account[(bar + 1)..] : account).Trim();
        return upn.Contains('@', StringComparison.Ordinal) ? upn : null;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static int? Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetInt32(out var n) => n,
            JsonValueKind.String when int.TryParse(v.GetString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) => n,
            _ => null,
        } : null;

    /// <summary>
    /// SharePoint's list view threshold (a folder or list over 5,000 items met by a query that enumerates
    /// it): 500 with SPQueryThrottledException. Despite the name it is no throttle; waiting does not help.
    /// </summary>
    /// <summary>The Url of an SP.Web answer (verbose or nometadata); null when the answer has none.</summary>
    public static string? ReadWebUrl(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var web = Unwrap(doc.RootElement);
        return web.ValueKind == JsonValueKind.Object ? String(web, "Url") : null;
    }

    public static bool IsViewThreshold(int status, string? code) =>
        status == 500 && code?.Contains("SPQueryThrottledException", StringComparison.Ordinal) == true;

    /// <summary>The service's error code and message from either error shape; (null, null) when the body is not one.</summary>
    public static (string? Code, string? Message) ReadError(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, null);
            if (!root.TryGetProperty("odata.error", out var error) && !root.TryGetProperty("error", out error)) return (null, null);
            if (error.ValueKind == JsonValueKind.String) return (null, error.GetString());
            var code = String(error, "code");
            string? message = null;
            if (error.TryGetProperty("message", out var m))
                message = m.ValueKind == JsonValueKind.Object ? String(m, "value") : m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            return (code, message);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static JsonElement Unwrap(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("d", out var d) ? d : root;

    private static IEnumerable<JsonElement> Items(JsonElement list)
    {
        if (list.ValueKind == JsonValueKind.Object && list.TryGetProperty("results", out var results)) list = results;
        if (list.ValueKind != JsonValueKind.Array) yield break;
        foreach (var item in list.EnumerateArray())
            if (item.ValueKind == JsonValueKind.Object) yield return item;
    }

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
            _ => null,
        } : null;

    private static string StripQuery(string url)
    {
        var q = url.IndexOf('?');
        return q >= 0 ? url[..q] : url;
    }
}
