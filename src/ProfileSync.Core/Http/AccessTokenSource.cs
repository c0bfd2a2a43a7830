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
