namespace ProfileSync.Core.Http;

/// <summary>Where each service lives for one tenant. Only these differ between the real tenant and the emulator.</summary>
public sealed class ServiceEndpoints
{
    public ServiceEndpoints(string tenantName, Uri graphRoot, Uri mySiteHost, Uri sharePointAdmin)
    {
        TenantName = tenantName;
        GraphRoot = Root(graphRoot);
        MySiteHost = Root(mySiteHost);
        SharePointAdmin = Root(sharePointAdmin);
    }

    public string TenantName { get; }
    /// <summary>Graph service root without version, e.g. https://graph.microsoft.com.</summary>
    public Uri GraphRoot { get; }
    /// <summary>https://TENANT-my.sharepoint.com: profiles are read and thumbnails stored here.</summary>
    public Uri MySiteHost { get; }
    /// <summary>https://TENANT-admin.sharepoint.com: other users' profile properties are written here.</summary>
    public Uri SharePointAdmin { get; }

    /// <summary>The Graph base URL the SDK is given: the root plus /v1.0.</summary>
    public string GraphBaseUrl => GraphRoot.AbsoluteUri.TrimEnd('/') + "/v1.0";

    /// <summary>Defaults for a commercial tenant: 'contoso' (or 'contoso.onmicrosoft.com') gives contoso-my and contoso-admin.</summary>
    public static ServiceEndpoints ForTenant(string tenantName, Uri? graphRoot = null, Uri? mySiteHost = null, Uri? sharePointAdmin = null)
    {
        var name = NormaliseTenantName(tenantName);
        return new ServiceEndpoints(
            name,
            graphRoot ?? new Uri("https://graph.microsoft.com"),
            mySiteHost ?? new Uri($"https://{name}-my.sharepoint.com"),
            sharePointAdmin ?? new Uri($"https://{name}-admin.sharepoint.com"));
    }

    /// <summary>Accepts 'contoso', 'contoso.onmicrosoft.com' or 'contoso.sharepoint.com'; returns 'contoso'.</summary>
    public static string NormaliseTenantName(string tenantName)
    {
        var name = (tenantName ?? "").Trim().ToLowerInvariant();
        foreach (var suffix in new[] { ".onmicrosoft.com", ".sharepoint.com" })
            if (name.EndsWith(suffix, StringComparison.Ordinal))
                name = name[..^suffix.Length];
        if (name.Length == 0 || name.Length > 63 || !name.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-') || name.StartsWith('-'))
            throw new ArgumentException(
                $"'{tenantName}' is not a tenant name. Give the part before '.onmicrosoft.com', e.g. 'contoso'.", nameof(tenantName));
        return name;
    }

    private static Uri Root(Uri uri)
    {
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw new ArgumentException($"'{uri}' is not an absolute http(s) URL.");
        return new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
    }
}
