using Azure.Core;
using Azure.Identity;

namespace ProfileSync.Core.SignIn;

/// <summary>
/// The Azure.Identity credential for each sign-in method; nothing hand-rolled. Delegated methods
/// sign in once and get the second service's token silently from the same account.
/// </summary>
public static class CredentialFactory
{
    public static TokenCredential Create(SignInRequest request, CloudHosts hosts, string tenantId)
    {
        switch (request.Method)
        {
            case SignInMethod.Interactive:
                return new InteractiveBrowserCredential(new InteractiveBrowserCredentialOptions
                {
                    TenantId = tenantId,
                    ClientId = Required(request.ClientId, "ClientId"),
                    AuthorityHost = hosts.Authority,
                    RedirectUri = new Uri("http://localhost"),
                });
            case SignInMethod.DeviceCode:
                var show = request.DeviceCodeMessage ?? (_ => { });
                return new DeviceCodeCredential(new DeviceCodeCredentialOptions
                {
                    TenantId = tenantId,
                    ClientId = Required(request.ClientId, "ClientId"),
                    AuthorityHost = hosts.Authority,
                    DeviceCodeCallback = (info, _) => { show(info.Message); return Task.CompletedTask; },
                });
            case SignInMethod.Certificate:
                var certificate = request.Certificate ?? throw new ArgumentException("A certificate is needed for certificate sign-in.");
                if (!certificate.HasPrivateKey)
                    throw new ArgumentException($"The certificate {certificate.Thumbprint} has no private key; app-only sign-in needs the certificate with its key.");
                return new ClientCertificateCredential(tenantId, Required(request.ClientId, "ClientId"), certificate,
                    new ClientCertificateCredentialOptions { AuthorityHost = hosts.Authority, SendCertificateChain = false });
            case SignInMethod.ManagedIdentity:
                return new ManagedIdentityCredential(request.ManagedIdentityClientId is null
                    ? ManagedIdentityId.SystemAssigned
                    : ManagedIdentityId.FromUserAssignedClientId(request.ManagedIdentityClientId));
            default:
                throw new ArgumentException($"{request.Method} sign-in uses no credential.");
        }
    }

    private static string Required(string? value, string name) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"-{name} is needed for this sign-in method.") : value.Trim();
}
