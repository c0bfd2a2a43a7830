using System.Runtime.InteropServices;
using System.Security;

namespace ProfileSync.Core.Http;

/// <summary>Gives the bearer token for one service. Interactive, certificate and managed-identity sources implement this too.</summary>
public interface IAccessTokenSource
{
    /// <summary>A token valid for the service. Called for every request, so implementations cache.</summary>
    ValueTask<string> GetTokenAsync(CancellationToken cancellationToken);

    /// <summary>How the token was obtained, for Get-ProfileSyncConnection and verbose text. Never the token.</summary>
    string Description { get; }

    /// <summary>When the current token expires, when known.</summary>
    DateTimeOffset? ExpiresOn { get; }

    /// <summary>
    /// A service rejected <paramref name="rejectedToken"/> (401): drop it so the next request gets a
    /// new one. False when this source cannot get another (a pre-acquired token).
    /// </summary>
    bool Renew(string rejectedToken);
}

/// <summary>A token the admin acquired elsewhere. Kept as a SecureString; turned into text only to build a header.</summary>
public sealed class PreAcquiredTokenSource : IAccessTokenSource
{
    private readonly SecureString _token;

    public PreAcquiredTokenSource(SecureString token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length == 0) throw new ArgumentException("The access token is empty.");
        _token = token.Copy();
        _token.MakeReadOnly();
    }

    public string Description => "Pre-acquired access token";

    /// <summary>Read from the token's own exp claim when it is a JWT; never validated, only shown.</summary>
    public DateTimeOffset? ExpiresOn => JwtExpiry.Read(GetTokenAsync(CancellationToken.None).Result);

    public bool Renew(string rejectedToken) => false;

    public ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        var ptr = IntPtr.Zero;
        try
        {
            ptr = Marshal.SecureStringToGlobalAllocUnicode(_token);
            return ValueTask.FromResult(Marshal.PtrToStringUni(ptr) ?? "");
        }
        finally
        {
            if (ptr != IntPtr.Zero) Marshal.ZeroFreeGlobalAllocUnicode(ptr);
        }
    }

    public override string ToString() => Description;
}

/// <summary>
/// A token from an Azure.Identity credential for one scope, cached for the connection and renewed
/// before it expires: with 5 minutes left, or half its lifetime for short-lived tokens, so a run of
/// several hours never sends a token at its end of life.
/// </summary>
public sealed class CredentialTokenSource : IAccessTokenSource
{
    private static readonly TimeSpan RenewMargin = TimeSpan.FromMinutes(5);
    private readonly Azure.Core.TokenCredential _credential;
    private readonly string _scope;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _gate = new(1, 1);
    /// <summary>A reference, swapped whole: a reader outside the gate never sees half of a token and half of another.</summary>
    private sealed record CachedToken(Azure.Core.AccessToken Token, DateTimeOffset RenewAt);
    private CachedToken? _current;

    public CredentialTokenSource(Azure.Core.TokenCredential credential, string scope, string description, TimeProvider? clock = null)
    {
        _credential = credential;
        _scope = scope;
        Description = description;
        _clock = clock ?? TimeProvider.System;
    }

    public string Description { get; }
    public string Scope => _scope;
    public DateTimeOffset? ExpiresOn => Volatile.Read(ref _current)?.Token.ExpiresOn;
    /// <summary>How many tokens were asked of the credential (for tests and verbose text).</summary>
    public int Acquisitions { get; private set; }

    public async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _current) is { } cached && _clock.GetUtcNow() < cached.RenewAt) return cached.Token.Token;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _clock.GetUtcNow();
            if (Volatile.Read(ref _current) is { } again && now < again.RenewAt) return again.Token.Token;
            Azure.Core.AccessToken token;
            try
            {
                token = await _credential.GetTokenAsync(new Azure.Core.TokenRequestContext(new[] { _scope }), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
            {
                // Azure.Identity may report a cancelled sign-in as a failed one: it is a stop (Ctrl+C, a timeout), not a wrong credential.
                throw new OperationCanceledException("The sign-in was cancelled.", ex, cancellationToken);
            }
            catch (Exception ex) when (ex is Azure.Identity.AuthenticationFailedException or Azure.Identity.CredentialUnavailableException or Azure.RequestFailedException)
            {
                throw new ProfileSyncException(ErrorIds.SignInFailed, FailureKind.AuthenticationFailed,
                    $"Sign-in for {_scope} failed ({Description}): {FirstLine(ex.Message)}", ex)
                { StopsRun = true };
            }
            Acquisitions++;
            var left = token.ExpiresOn - now;
            var margin = left / 2 < RenewMargin ? left / 2 : RenewMargin;
            var renewAt = token.ExpiresOn - margin;
            if (token.RefreshOn is DateTimeOffset refreshOn && refreshOn < renewAt) renewAt = refreshOn;
            Volatile.Write(ref _current, new CachedToken(token, renewAt));
            return token.Token;
        }
        finally
        {
            _gate.Release();
        }
    }

    public bool Renew(string rejectedToken)
    {
        if (Volatile.Read(ref _current) is { } cached && cached.Token.Token == rejectedToken) Interlocked.CompareExchange(ref _current, null, cached);
        return true;
    }

    public override string ToString() => Description;

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 400 ? line[..400] : line;
    }
}

/// <summary>Reads the exp claim of a JWT for display. No validation: ProfileSync never trusts a token's claims.</summary>
internal static class JwtExpiry
{
    public static DateTimeOffset? Read(string token) =>
        JwtPayload.Read(token, root => root.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : (DateTimeOffset?)null);
}

/// <summary>The one reader of a JWT's payload. It does not validate the token (the services do); it only reads claims for local decisions.</summary>
internal static class JwtPayload
{
    /// <summary>What <paramref name="read"/> takes from the payload; default for anything that is not a readable JWT.</summary>
    public static T? Read<T>(string token, Func<System.Text.Json.JsonElement, T?> read)
    {
        var parts = token.Split('.');
        if (parts.Length != 3) return default;
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
            using var doc = System.Text.Json.JsonDocument.Parse(Convert.FromBase64String(payload));
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object ? read(doc.RootElement) : default;
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
        {
            return default;
        }
    }
}

/// <summary>Who a token must be for: the service's resource URL, or its application id (some tokens name that; SharePoint's older form adds /host@realm).</summary>
public sealed record TokenAudience(string Service, string Parameter, Uri Resource, string ApplicationId)
{
    public const string GraphApplicationId = "00000003-0000-0000-c000-000000000000";
    public const string SharePointApplicationId = "00000003-0000-0ff1-ce00-000000000000";

    public static TokenAudience Graph(ServiceEndpoints endpoints) =>
        new("Microsoft Graph", "-GraphAccessToken", new Uri(endpoints.GraphScope[..^"/.default".Length]), GraphApplicationId);

    public static TokenAudience SharePoint(ServiceEndpoints endpoints) =>
        new("SharePoint", "-SharePointAccessToken", new Uri(endpoints.SharePointScope[..^"/.default".Length]), SharePointApplicationId);

    public string ResourceText => Resource.GetLeftPart(UriPartial.Authority);

    public bool Accepts(string audience)
    {
        var aud = audience.Trim().TrimEnd('/');
        return aud.Equals(ResourceText, StringComparison.OrdinalIgnoreCase)
            || aud.Equals(ApplicationId, StringComparison.OrdinalIgnoreCase)
            || aud.StartsWith($"{ApplicationId}/{Resource.Host}@", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>
/// Checks a token given to Connect-ProfileSync before anything is sent: a JWT's audience must be its
/// service's and it must not have expired. Claims are read, never validated (the service checks the
/// signature); nothing of the token but its audience and expiry is ever shown. An opaque token (not a
/// JWT: the emulator's, some clouds') cannot be read here: it is accepted with a note, and the service
/// judges it at the first call.
/// </summary>
public static class PreAcquiredTokenCheck
{
    /// <summary>Null when the token passed; a note when it could not be read; throws ArgumentException when it is for another audience or expired.</summary>
    public static string? Check(string token, TokenAudience expected, TokenAudience other, DateTimeOffset now)
    {
        var claims = JwtPayload.Read(token, root => new Claims(Audiences(root),
            root.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null));
        if (claims is null)
            return $"The {expected.Parameter} is not a JWT, so its audience and expiry cannot be checked here; {expected.Service} checks it at the first request.";
        if (claims.Audiences.Count == 0)
            return $"The {expected.Parameter} names no audience; {expected.Service} checks it at the first request.";
        if (!claims.Audiences.Any(expected.Accepts))
        {
            var named = string.Join("', '", claims.Audiences);
            throw new ArgumentException(claims.Audiences.Any(other.Accepts)
                ? $"The {expected.Parameter} is a token for {other.Service} (audience '{named}'), not for {expected.Service}: the two tokens look swapped. Give each parameter its own service's token."
                : $"The {expected.Parameter} is for '{named}', not for {expected.Service}. Give a token for {expected.ResourceText} (for example Get-AzAccessToken -ResourceUrl {expected.ResourceText}).");
        }
        if (claims.Expires is { } expires && expires <= now)
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"The {expected.Parameter} expired at {expires.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC ({Ago(now - expires)} ago); a token given to Connect-ProfileSync cannot be renewed. Get a new one for {expected.ResourceText} and connect again."));
        return null;
    }

    private sealed record Claims(IReadOnlyList<string> Audiences, DateTimeOffset? Expires);

    /// <summary>aud is a string, or (RFC 7519) an array of strings.</summary>
    private static IReadOnlyList<string> Audiences(System.Text.Json.JsonElement root)
    {
        if (!root.TryGetProperty("aud", out var aud)) return Array.Empty<string>();
        return aud.ValueKind switch
        {
            System.Text.Json.JsonValueKind.String => new[] { aud.GetString()! },
            System.Text.Json.JsonValueKind.Array => aud.EnumerateArray().Where(a => a.ValueKind == System.Text.Json.JsonValueKind.String).Select(a => a.GetString()!).ToArray(),
            _ => Array.Empty<string>(),
        };
    }

    private static string Ago(TimeSpan span) =>
        span.TotalMinutes < 1 ? $"{span.TotalSeconds:0} s" : span.TotalHours < 2 ? $"{span.TotalMinutes:0} min" : $"{span.TotalHours:0} h";
}
