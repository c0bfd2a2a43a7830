using System.Text.Json;

namespace ProfileSync.Core.SignIn;

/// <summary>Whose rights a sign-in carries: an app's own (app-only) or a signed-in user's (delegated). What to grant differs.</summary>
public enum SignInKind { Unknown, AppOnly, Delegated }

public static class SignInKinds
{
    /// <summary>As messages name it: "app-only", "delegated", "kind unknown".</summary>
    public static string Describe(SignInKind kind) => kind switch
    {
        SignInKind.AppOnly => "app-only",
        SignInKind.Delegated => "delegated",
        _ => "kind unknown",
    };

    public static SignInKind Of(SignInMethod method) => method switch
    {
        SignInMethod.Interactive or SignInMethod.DeviceCode => SignInKind.Delegated,
        SignInMethod.Certificate or SignInMethod.ManagedIdentity => SignInKind.AppOnly,
        _ => SignInKind.Unknown,
    };

    /// <summary>
    /// Reads (without validating: the service does that) an access token's payload: Entra ID's
    /// `idtyp` claim ("app" or "user") when present, else `scp` (delegated scopes) or `roles` alone (app-only).
    /// Unknown for anything that is not a readable JWT.
    /// </summary>
    public static SignInKind OfAccessToken(string token) => Http.JwtPayload.Read<SignInKind?>(token, root =>
        root.TryGetProperty("idtyp", out var idtyp) && idtyp.ValueKind == JsonValueKind.String ? (idtyp.GetString() == "app" ? SignInKind.AppOnly : SignInKind.Delegated)
        : root.TryGetProperty("scp", out _) ? SignInKind.Delegated
        : root.TryGetProperty("roles", out _) ? SignInKind.AppOnly
        : SignInKind.Unknown) ?? SignInKind.Unknown;
}
