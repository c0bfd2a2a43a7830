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

public sealed record PhotoFolder(string Name, string ServerRelativeUrl, int ItemCount);

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
    public static (IReadOnlyList<string> Files, string? NextLink) ReadFileRefs(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = Unwrap(doc.RootElement);
        var items = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("value", out var value) ? value : root;
        var files = new List<string>();
        foreach (var item in Items(items))
        {
            var isFolder = item.TryGetProperty("FSObjType", out var t) && (t.ValueKind == JsonValueKind.Number ? t.GetInt32() == 1 : t.ToString() == "1");
            if (!isFolder && String(item, "FileRef") is string path) files.Add(path);
        }
        var next = root.ValueKind == JsonValueKind.Object ? String(root, "odata.nextLink") ?? String(root, "@odata.nextLink") ?? String(root, "__next") : null;
        return (files, next);
    }

    /// <summary>The service's error code and message from either error shape; (null, null) when the body is not one.</summary>
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
