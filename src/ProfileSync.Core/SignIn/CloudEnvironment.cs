namespace ProfileSync.Core.SignIn;

/// <summary>The Microsoft 365 clouds ProfileSync knows the hosts of: each has its own Graph, SharePoint and sign-in hosts (README, "Sign-in").</summary>
public enum CloudEnvironment
{
    Global,
    USGovernment,
    USGovernmentDoD,
    China,
}

/// <summary>
/// The hosts of one cloud: Graph, the sign-in authority, and the suffix of SharePoint host names
/// (TENANT.sharepoint.com, TENANT-my..., TENANT-admin...). GCC (moderate) tenants use Global.
/// </summary>
public sealed record CloudHosts(CloudEnvironment Environment, Uri Graph, Uri Authority, string SharePointSuffix, string TenantDomainSuffix)
{
    public static CloudHosts For(CloudEnvironment environment) => environment switch
    {
        CloudEnvironment.Global => new(environment, new Uri("https://graph.microsoft.com"), new Uri("https://login.microsoftonline.com"), "sharepoint.com", "onmicrosoft.com"),
        CloudEnvironment.USGovernment => new(environment, new Uri("https://graph.microsoft.us"), new Uri("https://login.microsoftonline.us"), "sharepoint.us", "onmicrosoft.us"),
        CloudEnvironment.USGovernmentDoD => new(environment, new Uri("https://dod-graph.microsoft.us"), new Uri("https://login.microsoftonline.us"), "sharepoint-mil.us", "onmicrosoft.us"),
        CloudEnvironment.China => new(environment, new Uri("https://microsoftgraph.chinacloudapi.cn"), new Uri("https://login.chinacloudapi.cn"), "sharepoint.cn", "partner.onmschina.cn"),
        _ => throw new ArgumentOutOfRangeException(nameof(environment)),
    };

    /// <summary>Every suffix a tenant name may be given with, in any cloud.</summary>
    internal static IEnumerable<string> KnownSuffixes => Enum.GetValues<CloudEnvironment>().Select(For)
        .SelectMany(h => new[] { "." + h.TenantDomainSuffix, "." + h.SharePointSuffix }).Distinct();
}
