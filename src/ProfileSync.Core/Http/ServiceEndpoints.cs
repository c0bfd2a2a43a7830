using ProfileSync.Core.SignIn;

namespace ProfileSync.Core.Http;

/// <summary>Where each service lives for one tenant. Only these differ between the real tenant and the emulator.</summary>
public sealed class ServiceEndpoints
{
    public ServiceEndpoints(string tenantName, Uri graphRoot, Uri mySiteHost, Uri sharePointAdmin, CloudEnvironment environment = CloudEnvironment.Global)
    {
        TenantName = tenantName;
        Cloud = CloudHosts.For(environment);
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

    /// <summary>The cloud's hosts: the sign-in authority and the resources tokens are asked for.</summary>
    public CloudHosts Cloud { get; }

    /// <summary>
    /// Scopes are named by the cloud's resources, not by endpoint overrides: a token is for
    /// https://graph.microsoft.com or https://TENANT.sharepoint.com whatever URL the requests go to.
    /// </summary>
    public string GraphScope => Cloud.Graph.GetLeftPart(UriPartial.Authority) + "/.default";
    public string SharePointScope => $"https://{TenantName}.{Cloud.SharePointSuffix}/.default";

    /// <summary>The tenant as the sign-in authority knows it when no -TenantId is given.</summary>
    public string DefaultTenantId => $"{TenantName}.{Cloud.TenantDomainSuffix}";

    /// <summary>The Graph base URL the SDK is given: the root plus /v1.0.</summary>
    public string GraphBaseUrl => GraphRoot.AbsoluteUri.TrimEnd('/') + "/v1.0";

    /// <summary>Defaults for a commercial tenant: 'contoso' (or 'contoso.onmicrosoft.com') gives contoso-my and contoso-admin.</summary>
    public static ServiceEndpoints ForTenant(string tenantName, Uri? graphRoot = null, Uri? mySiteHost = null, Uri? sharePointAdmin = null) =>
        ForTenant(tenantName, CloudEnvironment.Global, graphRoot, mySiteHost, sharePointAdmin);

    /// <summary>The cloud's hosts for the tenant; an explicit endpoint wins over the cloud's.</summary>
    public static ServiceEndpoints ForTenant(string tenantName, CloudEnvironment environment, Uri? graphRoot = null, Uri? mySiteHost = null, Uri? sharePointAdmin = null)
    {
        var name = NormaliseTenantName(tenantName);
        var cloud = CloudHosts.For(environment);
        return new ServiceEndpoints(
            name,
            graphRoot ?? cloud.Graph,
            mySiteHost ?? new Uri($"https://{name}-my.{cloud.SharePointSuffix}"),
            sharePointAdmin ?? new Uri($"https://{name}-admin.{cloud.SharePointSuffix}"),
            environment);
    }

    /// <summary>
    /// The tenant's name from any of the forms an admin copies: 'contoso', 'contoso.onmicrosoft.com',
    /// 'contoso.sharepoint.com', the admin or My Site host ('contoso-admin', 'contoso-my.sharepoint.com'),
    /// or a URL of any of them ('https://contoso-admin.sharepoint.com/_layouts/15/online/AdminHome.aspx').
    /// Returns 'contoso'. SharePoint Online names the admin and My Site hosts TENANT-admin and TENANT-my,
    /// so a name ending in -admin or -my is read as that host of the tenant.
    /// </summary>
    public static string NormaliseTenantName(string tenantName)
    {
        var name = (tenantName ?? "").Trim().ToLowerInvariant();
        // A URL only of the tenant's own hosts (https://contoso-admin.sharepoint.com/...); 'https://contoso' names no tenant.
        if (name.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(name, UriKind.Absolute, out var url)
            && CloudHosts.KnownSuffixes.Any(suffix => url.Host.EndsWith(suffix, StringComparison.Ordinal)))
            name = url.Host;
        foreach (var suffix in CloudHosts.KnownSuffixes)
            if (name.EndsWith(suffix, StringComparison.Ordinal))
                name = name[..^suffix.Length];
        foreach (var host in new[] { "-admin", "-my" })
            if (name.EndsWith(host, StringComparison.Ordinal))
                name = name[..^host.Length];
        if (name.Length == 0 || name.Length > 63 || !name.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-') || name.StartsWith('-') || name.EndsWith('-'))
            throw new ArgumentException(
                $"'{tenantName}' is not a tenant name. Give the part before '.onmicrosoft.com', e.g. 'contoso' (or the tenant's SharePoint URL, e.g. https://contoso-admin.sharepoint.com).", nameof(tenantName));
        return name;
    }

    private static Uri Root(Uri uri)
    {
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw new ArgumentException($"'{uri}' is not an absolute http(s) URL.");
        return new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
    }
}
