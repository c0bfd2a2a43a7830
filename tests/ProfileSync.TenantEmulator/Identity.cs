using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ProfileSync.TenantEmulator;

/// <summary>A managed identity of the emulated tenant and what it was granted.</summary>
public sealed class EmulatedIdentity
{
    /// <summary>Null: the system-assigned identity; else a user-assigned one's client id.</summary>
    public string? ClientId { get; set; }
    /// <summary>Graph application permissions, e.g. ProfilePhoto.Read.All, User.Read.All.</summary>
    public List<string> GraphPermissions { get; set; } = new() { "ProfilePhoto.Read.All", "User.Read.All" };
    /// <summary>Sites.FullControl.All on SharePoint: may open the admin site and write profiles.</summary>
    public bool SharePointAdmin { get; set; } = true;
    /// <summary>Lifetime of the tokens it gets (real ones: 60-90 minutes; tests shorten it).</summary>
    public int TokenLifetimeSeconds { get; set; } = 3600;
}

/// <summary>What a request's bearer token allows: all (the scenario's static tokens) or an identity's grants.</summary>
public sealed record TokenRights(bool Full, EmulatedIdentity? Identity)
{
    public static readonly TokenRights All = new(true, null);

    public bool CanReadPhotos => Full || Identity!.GraphPermissions.Any(p => p is "ProfilePhoto.Read.All" or "ProfilePhoto.ReadWrite.All" or "User.Read.All" or "User.ReadWrite.All");
    public bool CanWritePhotos => Full || Identity!.GraphPermissions.Any(p => p is "ProfilePhoto.ReadWrite.All" or "User.ReadWrite.All");
    public bool CanListUsers => Full || Identity!.GraphPermissions.Any(p => p is "User.Read.All" or "User.ReadWrite.All" or "Directory.Read.All");
    public bool IsSharePointAdmin => Full || Identity!.SharePointAdmin;
}

/// <summary>
/// The token endpoint of Azure App Service and Azure Automation managed identities (api-version
/// 2019-08-01): GET {IDENTITY_ENDPOINT}?resource=...&amp;api-version=2019-08-01[&amp;client_id=...] with the
/// X-IDENTITY-HEADER secret. Azure.Identity/MSAL find it through IDENTITY_ENDPOINT and
/// IDENTITY_HEADER, as in a real runbook. Tokens it issues expire; the services refuse them after.
/// </summary>
public sealed class IdentityEndpoint
{
    private readonly ConcurrentDictionary<string, (string Audience, DateTimeOffset Expires, EmulatedIdentity Identity, DateTimeOffset IssuedAt)> _issued = new();
    private readonly Scenario _scenario;

    public IdentityEndpoint(Scenario scenario)
    {
        _scenario = scenario;
        Header = "ih-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
    }

    /// <summary>The X-IDENTITY-HEADER secret a caller must send (IDENTITY_HEADER).</summary>
    public string Header { get; }
    public int Issued => _issued.Count;

    private IReadOnlyList<EmulatedIdentity> Identities => _scenario.ManagedIdentities.Count > 0 ? _scenario.ManagedIdentities : new[] { new EmulatedIdentity() };

    /// <summary>GET /msi/token; any other request: 404 in the endpoint's error shape.</summary>
    public void MapRoutes(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/msi/token", TokenAsync);
        routes.Map("/{**path}", ctx => AnswerAsync(ctx, 404, new { statusCode = 404, message = "Not found." }));
    }

    private Task TokenAsync(HttpContext ctx)
    {
        var query = ctx.Request.Query;
        var identity = Identities.FirstOrDefault(i => string.Equals(i.ClientId, NullIfEmpty(query["client_id"]), StringComparison.OrdinalIgnoreCase));
        var resource = query["resource"].ToString().TrimEnd('/');
        if (ctx.Request.Headers["X-IDENTITY-HEADER"].ToString() != Header)
            return AnswerAsync(ctx, 401, new { statusCode = 401, message = "The X-IDENTITY-HEADER is missing or wrong." });
        if (query["api-version"].ToString() != "2019-08-01")
            return AnswerAsync(ctx, 400, new { statusCode = 400, message = "Unsupported api-version." });
        if (identity is null)
            return AnswerAsync(ctx, 400, new { statusCode = 400, message = "No managed identity found for specified ClientId/ResourceId/PrincipalId." });
        if (resource.Length == 0)
            return AnswerAsync(ctx, 400, new { statusCode = 400, message = "The resource parameter is required." });
        var token = "mi-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var expires = DateTimeOffset.UtcNow.AddSeconds(identity.TokenLifetimeSeconds);
        _issued[token] = (resource, expires, identity, DateTimeOffset.UtcNow);
        return AnswerAsync(ctx, 200, new Dictionary<string, string>
        {
            ["access_token"] = token,
            ["expires_on"] = expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["resource"] = resource,
            ["token_type"] = "Bearer",
            ["client_id"] = identity.ClientId ?? "00000000-0000-0000-0000-00000000a11d",
        });
    }

    private static Task AnswerAsync(HttpContext ctx, int status, object body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    /// <summary>Every token issued so far stops working (a revocation, a password reset, a CAE event).</summary>
    public void RevokeAll() => _revokedBefore = DateTimeOffset.UtcNow;
    private DateTimeOffset _revokedBefore = DateTimeOffset.MinValue;

    /// <summary>An issued token's rights for a resource; why not, when it is refused.</summary>
    public (TokenRights? Rights, string? Refusal) Check(string token, string audience)
    {
        if (!_issued.TryGetValue(token, out var issued)) return (null, null);
        if (!string.Equals(issued.Audience, audience, StringComparison.OrdinalIgnoreCase)) return (null, "Invalid audience.");
        if (DateTimeOffset.UtcNow >= issued.Expires) return (null, "Lifetime validation failed, the token is expired.");
        if (issued.IssuedAt <= _revokedBefore) return (null, "The token has been revoked.");
        return (new TokenRights(false, issued.Identity), null);
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
