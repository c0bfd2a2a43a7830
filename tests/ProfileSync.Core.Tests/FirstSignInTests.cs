using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Identity;
using ProfileSync.Core.Http;
using ProfileSync.Core.SignIn;

namespace ProfileSync.Core.Tests;

/// <summary>Issue 14, item 1: browser sign-in cannot hang: refused at once without a display, ended by a timeout, still ended by Ctrl+C.</summary>
public class BrowserSignInTests
{
    [Theory]
    [InlineData("Linux", "", "", "", true)]                         // no display at all: a server, a container
    [InlineData("Linux", "DISPLAY=:0", "", "", false)]
    [InlineData("Linux", "WAYLAND_DISPLAY=wayland-0", "", "", false)]
    [InlineData("Linux", "", "SSH_CONNECTION=10.0.0.1 50000 10.0.0.2 22", "", true)]
    [InlineData("Linux", "DISPLAY=localhost:10.0", "SSH_CLIENT=10.0.0.1 50000 22", "", false)] // ssh -X: the browser shows through the forwarded display
    [InlineData("Windows", "", "", "", false)]
    [InlineData("Windows", "", "", "SSH_TTY=/dev/pts/0", true)]
    [InlineData("OSX", "", "", "", false)]
    [InlineData("OSX", "", "SSH_CONNECTION=10.0.0.1 50000 10.0.0.2 22", "", true)]
    public void A_session_without_a_display_is_told_from_the_environment(string platform, string display, string ssh, string tty, bool refused)
    {
        var variables = new[] { display, ssh, tty }.Where(v => v.Length > 0).Select(v => v.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var found = SessionDisplay.Detect(name => variables.GetValueOrDefault(name), OSPlatform.Create(platform.ToUpperInvariant()));
        Assert.Equal(!refused, found.CanShowBrowser);
        Assert.False(string.IsNullOrWhiteSpace(found.Description));
        if (refused)
        {
            var failure = BrowserSignIn.NoDisplay(found).Failure;
            Assert.Equal(ErrorIds.SignInFailed, failure.ErrorId);
            Assert.Contains("-UseDeviceCode", failure.RecommendedAction);
            Assert.Contains(found.Description, failure.Message);
        }
    }

    /// <summary>What an interactive browser credential does when the browser opened nowhere: waits for a redirect that never comes.</summary>
    private sealed class NeverAnsweringCredential(bool heedsCancellation) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw new NotSupportedException();
        public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, heedsCancellation ? cancellationToken : CancellationToken.None);
            throw new InvalidOperationException("not reached");
        }
    }

    /// <summary>Azure.Identity's way of reporting a cancelled interactive sign-in: a failure, not a cancellation.</summary>
    private sealed class CancelledAsFailureCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw new NotSupportedException();
        public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            try { await Task.Delay(Timeout.Infinite, cancellationToken); }
            catch (OperationCanceledException ex) { throw new AuthenticationFailedException("InteractiveBrowserCredential authentication failed: A task was canceled.", ex); }
            throw new InvalidOperationException("not reached");
        }
    }

    private static ProfileSyncConnection Connection(TokenCredential credential, TimeSpan? timeout)
    {
        var endpoints = ServiceEndpoints.ForTenant("contoso");
        return new ProfileSyncConnection(endpoints,
            new CredentialTokenSource(credential, endpoints.GraphScope, "Interactive"),
            new CredentialTokenSource(credential, endpoints.SharePointScope, "Interactive"), "Interactive") { SignInTimeout = timeout };
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_browser_sign_in_that_never_answers_ends_at_its_timeout_in_SignInFailed_with_the_device_code_advice(bool heedsCancellation)
    {
        using var connection = Connection(new NeverAnsweringCredential(heedsCancellation), TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<ProfileSyncException>(() => connection.SignInAsync(CancellationToken.None));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
        Assert.Equal(ErrorIds.SignInFailed, ex.ErrorId);
        Assert.True(ex.StopsRun);
        Assert.Contains("-TimeoutSeconds", ex.Message);
        Assert.Contains("-UseDeviceCode", ex.Failure.RecommendedAction);
    }

    [Fact]
    public async Task A_cancellation_reported_as_a_failure_still_ends_at_the_timeout_as_a_timeout()
    {
        using var connection = Connection(new CancelledAsFailureCredential(), TimeSpan.FromMilliseconds(200));
        var ex = await Assert.ThrowsAsync<ProfileSyncException>(() => connection.SignInAsync(CancellationToken.None));
        Assert.Contains("-TimeoutSeconds", ex.Message);
        Assert.DoesNotContain("task was canceled", ex.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Ctrl_C_ends_the_wait_as_a_stop_not_as_a_failed_sign_in(bool heedsCancellation)
    {
        using var connection = Connection(new NeverAnsweringCredential(heedsCancellation), TimeSpan.FromMinutes(10));
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.SignInAsync(stop.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the stop took {clock.Elapsed}");
    }

    [Fact]
    public void The_warning_before_the_wait_names_the_timeout_and_the_way_out()
    {
        var text = BrowserSignIn.Waiting(TimeSpan.FromSeconds(180));
        Assert.Contains("180 s", text);
        Assert.Contains("-UseDeviceCode", text);
        Assert.Equal(TimeSpan.FromMinutes(3), BrowserSignIn.DefaultTimeout);
    }
}

/// <summary>Issue 14, item 9: a pre-acquired token for the wrong service, or expired, is refused at connect, before any request; its text is never shown.</summary>
public class PreAcquiredTokenSignInTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A JWT-shaped token (unsigned: nothing here validates signatures) with the claims given.</summary>
    private static string Jwt(object claims)
    {
        static string Part(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return Part(Encoding.UTF8.GetBytes("{\"typ\":\"JWT\",\"alg\":\"RS256\"}")) + "." + Part(JsonSerializer.SerializeToUtf8Bytes(claims)) + ".c2lnbmF0dXJlLXNlY3JldA";
    }

    private static long In(TimeSpan t) => (Now + t).ToUnixTimeSeconds();

    private static ProfileSyncConnection Connect(string graph, string sharePoint, string tenant = "contoso") =>
        ProfileSyncConnection.Create(ServiceEndpoints.ForTenant(tenant), new SignInRequest
        {
            Method = SignInMethod.AccessToken, GraphAccessToken = Secure(graph), SharePointAccessToken = Secure(sharePoint),
        }, clock: new FixedClock(Now));

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static SecureString Secure(string s)
    {
        var secure = new SecureString();
        foreach (var c in s) secure.AppendChar(c);
        return secure;
    }

    private static readonly string GoodGraph = Jwt(new { aud = "https://graph.microsoft.com", exp = In(TimeSpan.FromHours(1)), idtyp = "app" });
    private static readonly string GoodSharePoint = Jwt(new { aud = "https://contoso.sharepoint.com", exp = In(TimeSpan.FromHours(1)), idtyp = "app" });

    [Fact]
    public void Tokens_for_their_services_and_not_expired_are_accepted_without_a_note()
    {
        using var connection = Connect(GoodGraph, GoodSharePoint);
        Assert.Empty(connection.SignInNotes);
        // The other documented audience forms: the service's application id, SharePoint's app id/host@realm, a trailing slash, an aud array.
        using var byAppId = Connect(Jwt(new { aud = new[] { "00000003-0000-0000-c000-000000000000" }, exp = In(TimeSpan.FromMinutes(5)) }),
            Jwt(new { aud = "00000003-0000-0ff1-ce00-000000000000/contoso.sharepoint.com@72f988bf-86f1-41af-91ab-2d7cd011db47" }));
        Assert.Empty(byAppId.SignInNotes);
        using var slash = Connect(Jwt(new { aud = "https://graph.microsoft.com/" }), Jwt(new { aud = "00000003-0000-0ff1-ce00-000000000000" }));
        Assert.Empty(slash.SignInNotes);
    }

    [Fact]
    public void Swapped_tokens_are_refused_at_once_naming_the_swap_and_never_the_token()
    {
        var ex = Assert.Throws<ArgumentException>(() => Connect(GoodSharePoint, GoodGraph));
        Assert.Contains("-GraphAccessToken", ex.Message);
        Assert.Contains("swapped", ex.Message);
        Assert.DoesNotContain(GoodSharePoint.Split('.')[1], ex.Message);
        Assert.DoesNotContain("c2lnbmF0dXJl", ex.Message);
    }

    [Fact]
    public void A_token_for_another_tenant_or_resource_is_refused_naming_both_audiences()
    {
        var fabrikam = Jwt(new { aud = "https://fabrikam.sharepoint.com", exp = In(TimeSpan.FromHours(1)) });
        var ex = Assert.Throws<ArgumentException>(() => Connect(GoodGraph, fabrikam));
        Assert.Contains("-SharePointAccessToken", ex.Message);
        Assert.Contains("https://fabrikam.sharepoint.com", ex.Message);
        Assert.Contains("https://contoso.sharepoint.com", ex.Message);
        var azure = Jwt(new { aud = "https://management.azure.com" });
        Assert.Contains("https://graph.microsoft.com", Assert.Throws<ArgumentException>(() => Connect(azure, GoodSharePoint)).Message);
    }

    [Fact]
    public void An_expired_token_is_refused_with_when_it_expired()
    {
        var expired = Jwt(new { aud = "https://graph.microsoft.com", exp = In(TimeSpan.FromMinutes(-90)) });
        var ex = Assert.Throws<ArgumentException>(() => Connect(expired, GoodSharePoint));
        Assert.Contains("-GraphAccessToken expired at 2026-11-29 10:30:00 UTC", ex.Message);
        Assert.Contains("90 min ago", ex.Message);
    }

    [Fact]
    public void An_opaque_token_is_accepted_with_a_note_since_only_the_service_can_judge_it()
    {
        using var connection = Connect("graph-0123456789abcdef", GoodSharePoint);
        var note = Assert.Single(connection.SignInNotes);
        Assert.Contains("-GraphAccessToken is not a JWT", note);
        Assert.DoesNotContain("0123456789abcdef", note);
    }

    [Fact]
    public void The_cloud_sets_the_audience_a_token_must_have()
    {
        var endpoints = ServiceEndpoints.ForTenant("contoso", CloudEnvironment.USGovernment);
        Assert.True(TokenAudience.Graph(endpoints).Accepts("https://graph.microsoft.us"));
        Assert.False(TokenAudience.Graph(endpoints).Accepts("https://graph.microsoft.com"));
        Assert.True(TokenAudience.SharePoint(endpoints).Accepts("https://contoso.sharepoint.us/"));
        Assert.False(TokenAudience.SharePoint(endpoints).Accepts("00000003-0000-0ff1-ce00-000000000000/fabrikam.sharepoint.us@realm"));
    }
}

/// <summary>Issue 14, item 9: every form of the tenant's name an admin copies means the tenant; anything else is refused clearly.</summary>
public class TenantNameSignInTests
{
    [Theory]
    [InlineData("contoso")]
    [InlineData("Contoso")]
    [InlineData("contoso.onmicrosoft.com")]
    [InlineData("contoso.sharepoint.com")]
    [InlineData("contoso-admin")]
    [InlineData("contoso-my")]
    [InlineData("contoso-admin.sharepoint.com")]
    [InlineData("contoso-my.sharepoint.com")]
    [InlineData("https://contoso-admin.sharepoint.com/_layouts/15/online/AdminHome.aspx")]
    [InlineData("https://contoso-my.sharepoint.com/")]
    [InlineData("https://contoso.sharepoint.com/sites/hr")]
    public void The_admin_and_My_Site_hosts_and_their_URLs_mean_the_tenant(string given)
    {
        var endpoints = ServiceEndpoints.ForTenant(given);
        Assert.Equal("contoso", endpoints.TenantName);
        Assert.Equal("https://contoso-admin.sharepoint.com/", endpoints.SharePointAdmin.ToString());
        Assert.Equal("https://contoso-my.sharepoint.com/", endpoints.MySiteHost.ToString());
        Assert.Equal("https://contoso.sharepoint.com/.default", endpoints.SharePointScope);
    }

    [Theory]
    [InlineData("con toso")]
    [InlineData("-admin")]
    [InlineData("contoso-")]
    [InlineData("https://")]
    [InlineData("https://contoso")]
    [InlineData("contoso.example.com")]
    public void Anything_else_is_refused_with_the_forms_that_work(string given)
    {
        var ex = Assert.Throws<ArgumentException>(() => ServiceEndpoints.ForTenant(given));
        Assert.Contains("'contoso'", ex.Message);
    }
}
