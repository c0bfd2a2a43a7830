using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Identity;
using ProfileSync.Core.Http;
using ProfileSync.Core.SignIn;

namespace ProfileSync.Core.Tests;

/// <summary>Sign-in paths that run offline: the credential per method, scopes, renewal, the cloud host table, tokens per host.</summary>
public class SignInTests
{
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>A credential that hands out numbered tokens with a fixed lifetime and records the scopes asked.</summary>
    private sealed class CountingCredential(ManualClock clock, TimeSpan lifetime) : TokenCredential
    {
        public List<string> Scopes { get; } = new();
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => Next(requestContext);
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => ValueTask.FromResult(Next(requestContext));
        private AccessToken Next(TokenRequestContext context)
        {
            lock (Scopes)
            {
                Scopes.AddRange(context.Scopes);
                return new AccessToken($"token-{Scopes.Count}", clock.Now + lifetime);
            }
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=ProfileSync test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    [Fact]
    public void Each_sign_in_method_gets_its_Azure_Identity_credential()
    {
        var hosts = CloudHosts.For(CloudEnvironment.Global);
        Assert.IsType<InteractiveBrowserCredential>(CredentialFactory.Create(new SignInRequest { Method = SignInMethod.Interactive, ClientId = "app" }, hosts, "contoso.onmicrosoft.com"));
        Assert.IsType<DeviceCodeCredential>(CredentialFactory.Create(new SignInRequest { Method = SignInMethod.DeviceCode, ClientId = "app" }, hosts, "contoso.onmicrosoft.com"));
        using var certificate = SelfSigned();
        Assert.IsType<ClientCertificateCredential>(CredentialFactory.Create(new SignInRequest { Method = SignInMethod.Certificate, ClientId = "app", Certificate = certificate }, hosts, "contoso.onmicrosoft.com"));
        Assert.IsType<ManagedIdentityCredential>(CredentialFactory.Create(new SignInRequest { Method = SignInMethod.ManagedIdentity }, hosts, "contoso.onmicrosoft.com"));
        Assert.IsType<ManagedIdentityCredential>(CredentialFactory.Create(new SignInRequest { Method = SignInMethod.ManagedIdentity, ManagedIdentityClientId = "mi-client" }, hosts, "contoso.onmicrosoft.com"));
    }

    [Fact]
    public void Missing_client_id_and_a_certificate_without_its_key_are_refused_clearly()
    {
        var hosts = CloudHosts.For(CloudEnvironment.Global);
        var noClient = Assert.Throws<ArgumentException>(() => CredentialFactory.Create(new SignInRequest { Method = SignInMethod.Interactive }, hosts, "t"));
        Assert.Contains("-ClientId", noClient.Message);
        using var certificate = SelfSigned();
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.Export(X509ContentType.Cert));
        var noKey = Assert.Throws<ArgumentException>(() => CredentialFactory.Create(new SignInRequest { Method = SignInMethod.Certificate, ClientId = "app", Certificate = publicOnly }, hosts, "t"));
        Assert.Contains("private key", noKey.Message);
    }

    [Fact]
    public void A_pfx_opens_with_its_password_and_a_wrong_password_is_refused_without_echoing_it()
    {
        using var certificate = SelfSigned();
        var path = Path.Combine(Path.GetTempPath(), $"profilesync-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, "S3cret-pfx-pass"));
        try
        {
            using var loaded = CertificateFiles.FromFile(path, Secure("S3cret-pfx-pass"));
            Assert.True(loaded.HasPrivateKey);
            Assert.Equal(certificate.Thumbprint, loaded.Thumbprint);
            var wrong = Assert.Throws<ArgumentException>(() => CertificateFiles.FromFile(path, Secure("not-the-password")));
            Assert.DoesNotContain("not-the-password", wrong.Message);
            Assert.Contains("password", wrong.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(CloudEnvironment.Global, "https://graph.microsoft.com/", "https://contoso-my.sharepoint.com/", "https://contoso-admin.sharepoint.com/", "https://contoso.sharepoint.com/.default", "https://login.microsoftonline.com/", "contoso.onmicrosoft.com")]
    [InlineData(CloudEnvironment.USGovernment, "https://graph.microsoft.us/", "https://contoso-my.sharepoint.us/", "https://contoso-admin.sharepoint.us/", "https://contoso.sharepoint.us/.default", "https://login.microsoftonline.us/", "contoso.onmicrosoft.us")]
    [InlineData(CloudEnvironment.USGovernmentDoD, "https://dod-graph.microsoft.us/", "https://contoso-my.sharepoint-mil.us/", "https://contoso-admin.sharepoint-mil.us/", "https://contoso.sharepoint-mil.us/.default", "https://login.microsoftonline.us/", "contoso.onmicrosoft.us")]
    [InlineData(CloudEnvironment.China, "https://microsoftgraph.chinacloudapi.cn/", "https://contoso-my.sharepoint.cn/", "https://contoso-admin.sharepoint.cn/", "https://contoso.sharepoint.cn/.default", "https://login.chinacloudapi.cn/", "contoso.partner.onmschina.cn")]
    public void The_environment_sets_the_Graph_SharePoint_and_sign_in_hosts(CloudEnvironment environment, string graph, string mySite, string admin, string sharePointScope, string authority, string tenantId)
    {
        var e = ServiceEndpoints.ForTenant("contoso", environment);
        Assert.Equal(graph, e.GraphRoot.ToString());
        Assert.Equal(mySite, e.MySiteHost.ToString());
        Assert.Equal(admin, e.SharePointAdmin.ToString());
        Assert.Equal(graph + ".default", e.GraphScope);
        Assert.Equal(sharePointScope, e.SharePointScope);
        Assert.Equal(authority, e.Cloud.Authority.ToString());
        Assert.Equal(tenantId, e.DefaultTenantId);
    }

    [Fact]
    public void Explicit_endpoints_win_over_the_environment_but_scopes_stay_the_clouds()
    {
        var e = ServiceEndpoints.ForTenant("contoso.sharepoint.us", CloudEnvironment.USGovernment, new Uri("http://127.0.0.1:5001"), new Uri("http://127.0.0.1:5002"), new Uri("http://127.0.0.1:5003"));
        Assert.Equal("contoso", e.TenantName);
        Assert.Equal("http://127.0.0.1:5001/", e.GraphRoot.ToString());
        Assert.Equal("http://127.0.0.1:5002/", e.MySiteHost.ToString());
        Assert.Equal("https://graph.microsoft.us/.default", e.GraphScope);
        Assert.Equal("https://contoso.sharepoint.us/.default", e.SharePointScope);
    }

    [Fact]
    public async Task A_connection_asks_each_service_for_its_own_scope_from_one_credential()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var credential = new CountingCredential(clock, TimeSpan.FromHours(1));
        var e = ServiceEndpoints.ForTenant("contoso");
        var graph = new CredentialTokenSource(credential, e.GraphScope, "test", clock);
        var sharePoint = new CredentialTokenSource(credential, e.SharePointScope, "test", clock);
        Assert.Equal("token-1", await graph.GetTokenAsync(default));
        Assert.Equal("token-2", await sharePoint.GetTokenAsync(default));
        Assert.Equal(new[] { "https://graph.microsoft.com/.default", "https://contoso.sharepoint.com/.default" }, credential.Scopes);
    }

    [Fact]
    public async Task A_token_is_reused_then_renewed_five_minutes_before_it_expires()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 26, 3, 0, 0, TimeSpan.Zero));
        var credential = new CountingCredential(clock, TimeSpan.FromMinutes(60));
        var source = new CredentialTokenSource(credential, "https://graph.microsoft.com/.default", "test", clock);
        Assert.Equal("token-1", await source.GetTokenAsync(default));
        clock.Now = clock.Now.AddMinutes(54);
        Assert.Equal("token-1", await source.GetTokenAsync(default));
        Assert.Equal(clock.Now.AddMinutes(6), source.ExpiresOn);
        clock.Now = clock.Now.AddMinutes(1).AddSeconds(1); // 4 min 59 s left
        Assert.Equal("token-2", await source.GetTokenAsync(default));
        // A run of several hours: one token per lifetime, never one at its end of life.
        for (var minute = 0; minute < 6 * 60; minute++)
        {
            clock.Now = clock.Now.AddMinutes(1);
            await source.GetTokenAsync(default);
            Assert.True(source.ExpiresOn - clock.Now > TimeSpan.FromMinutes(4), $"at minute {minute} the token had {source.ExpiresOn - clock.Now} left");
        }
        Assert.InRange(source.Acquisitions, 7, 8);
    }

    [Fact]
    public async Task A_short_lived_token_is_renewed_at_half_its_life_and_a_rejected_one_at_once()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var source = new CredentialTokenSource(new CountingCredential(clock, TimeSpan.FromSeconds(20)), "s/.default", "test", clock);
        Assert.Equal("token-1", await source.GetTokenAsync(default));
        clock.Now = clock.Now.AddSeconds(9);
        Assert.Equal("token-1", await source.GetTokenAsync(default));
        clock.Now = clock.Now.AddSeconds(2);
        Assert.Equal("token-2", await source.GetTokenAsync(default));
        Assert.True(source.Renew("token-2"));
        Assert.Equal("token-3", await source.GetTokenAsync(default));
        Assert.True(source.Renew("an-older-token"));
        Assert.Equal("token-3", await source.GetTokenAsync(default));
    }

    [Fact]
    public async Task A_credential_failure_becomes_SignInFailed_that_stops_the_run()
    {
        var source = new CredentialTokenSource(new FailingCredential(), "https://graph.microsoft.com/.default", "Certificate");
        var ex = await Assert.ThrowsAsync<ProfileSyncException>(async () => await source.GetTokenAsync(default));
        Assert.Equal(ErrorIds.SignInFailed, ex.ErrorId);
        Assert.True(ex.StopsRun);
        Assert.Contains("AADSTS700027", ex.Message);
    }

    private sealed class FailingCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw Failure();
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw Failure();
        private static Exception Failure() => new AuthenticationFailedException("ClientCertificateCredential authentication failed: AADSTS700027: Client assertion contains an invalid signature.\nTrace ID: x");
    }

    [Fact]
    public async Task A_401_renews_the_token_once_and_sends_the_new_one_only_to_the_same_service()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var credential = new CountingCredential(clock, TimeSpan.FromHours(1));
        var e = ServiceEndpoints.ForTenant("contoso");
        var seen = new List<(string Host, string? Auth)>();
        var transport = new Transport(request =>
        {
            seen.Add((request.RequestUri!.Host, request.Headers.Authorization?.Parameter));
            // The first token of each service is refused, as a revoked or expired one would be.
            return request.Headers.Authorization?.Parameter is "token-1" or "token-3" ? HttpStatusCode.Unauthorized : HttpStatusCode.OK;
        });
        using var pipeline = new ServiceHttpPipeline(e, new CredentialTokenSource(credential, e.GraphScope, "t", clock), new CredentialTokenSource(credential, e.SharePointScope, "t", clock),
            new HttpPipelineOptions { Delay = (_, _) => Task.CompletedTask }, transport);
        using (var graph = await pipeline.Client.GetAsync("https://graph.microsoft.com/v1.0/users/a/photo")) Assert.Equal(HttpStatusCode.OK, graph.StatusCode);
        using (var sharePoint = await pipeline.Client.GetAsync("https://contoso-my.sharepoint.com/_api/web")) Assert.Equal(HttpStatusCode.OK, sharePoint.StatusCode);
        using (var other = await pipeline.Client.GetAsync("https://evil.example.net/x")) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(new (string, string?)[]
        {
            ("graph.microsoft.com", "token-1"), ("graph.microsoft.com", "token-2"),
            ("contoso-my.sharepoint.com", "token-3"), ("contoso-my.sharepoint.com", "token-4"),
            ("evil.example.net", null),
        }, seen);
        Assert.Equal(new[] { e.GraphScope, e.GraphScope, e.SharePointScope, e.SharePointScope }, credential.Scopes);
    }

    [Fact]
    public async Task A_pre_acquired_token_that_is_refused_is_not_retried_and_maps_to_a_run_stopping_error()
    {
        var calls = 0;
        var transport = new Transport(_ => { calls++; return HttpStatusCode.Unauthorized; });
        using var pipeline = new ServiceHttpPipeline(ServiceEndpoints.ForTenant("contoso"), new PreAcquiredTokenSource(Secure("g")), new PreAcquiredTokenSource(Secure("s")),
            new HttpPipelineOptions { Delay = (_, _) => Task.CompletedTask }, transport);
        using var response = await pipeline.Client.GetAsync("https://graph.microsoft.com/v1.0/users/a/photo");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, calls);
        var failure = ServiceFailure.From(ServiceKind.Graph, 401, "InvalidAuthenticationToken", "expired", "reading", ServiceFailure.Need.GraphPhotoRead);
        Assert.Equal(ErrorIds.AuthenticationFailed, failure.ErrorId);
        Assert.True(failure.StopsRun);
        var denied = ServiceFailure.From(ServiceKind.SharePoint, 403, null, "Access denied.", "setting PictureURL", ServiceFailure.Need.SharePointAdmin);
        Assert.True(denied.StopsRun);
        Assert.Contains("SharePoint Administrator", denied.Message);
        Assert.False(ServiceFailure.From(ServiceKind.SharePoint, 403, null, "Access denied.", "downloading a file", ServiceFailure.Need.SingleResource).StopsRun);
    }

    private sealed class Transport(Func<HttpRequestMessage, HttpStatusCode> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(answer(request)));
    }

    private static System.Security.SecureString Secure(string s)
    {
        var secure = new System.Security.SecureString();
        foreach (var c in s) secure.AppendChar(c);
        return secure;
    }
}
