using System.Security;
using System.Security.Cryptography.X509Certificates;

namespace ProfileSync.Core.SignIn;

public enum SignInMethod
{
    AccessToken,
    Interactive,
    DeviceCode,
    Certificate,
    ManagedIdentity,
}

/// <summary>How to sign in; only BCL types, so the cmdlet layer builds it without touching Azure.Identity.</summary>
public sealed record SignInRequest
{
    public SignInMethod Method { get; init; }
    /// <summary>Directory (tenant) id or a verified domain. Default: TENANT.onmicrosoft.com (or the cloud's equivalent).</summary>
    public string? TenantId { get; init; }
    /// <summary>Application (client) id of the app registration.</summary>
    public string? ClientId { get; init; }
    public X509Certificate2? Certificate { get; init; }
    /// <summary>Client id of a user-assigned managed identity; null for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; init; }
    /// <summary>Called (on a worker thread) with the device code text to show; the cmdlet queues it to the pipeline thread.</summary>
    public Action<string>? DeviceCodeMessage { get; init; }
    public SecureString? GraphAccessToken { get; init; }
    public SecureString? SharePointAccessToken { get; init; }
    /// <summary>How long the sign-in may wait (browser sign-in: for a redirect that may never come); null, no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How Get-ProfileSyncConnection names the method.</summary>
    public string Description => Method switch
    {
        SignInMethod.ManagedIdentity => ManagedIdentityClientId is null ? "ManagedIdentity (system-assigned)" : "ManagedIdentity (user-assigned)",
        _ => Method.ToString(),
    };
}
