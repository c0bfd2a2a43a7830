using System.Text;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;

namespace ProfileSync.Core.Tests;

public class NameHandlingTests
{
    [Theory]
    [InlineData("adele.vance@contoso.com")]
    [InlineData("o'neil@contoso.com")]
    [InlineData("jürgen@contoso.com")]
    [InlineData("jane_fabrikam.com#EXT#@contoso.onmicrosoft.com")]
    [InlineData("  padded@contoso.com  ")]
    public void Valid_user_principal_names_parse(string input)
    {
        Assert.True(UserRef.TryParse(input, out var user, out var error), error);
        Assert.Equal(input.Trim(), user!.UserPrincipalName);
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("adele", "name@domain")]
    [InlineData("@contoso.com", "name@domain")]
    [InlineData("adele@", "name@domain")]
    [InlineData("adele@contoso", "domain")]
    [InlineData("adele@contoso..com", "domain")]
    [InlineData("a@b@contoso.com", "more than one")]
    [InlineData("adele vance@contoso.com", "character")]
    [InlineData("adele@contoso.com\u0000", "\\u0000")]
    public void Malformed_names_are_refused_with_a_message_that_says_what(string? input, string expected)
    {
        Assert.False(UserRef.TryParse(input, out _, out var error));
        Assert.Contains(expected, error);
    }

    [Fact]
    public void Decomposed_umlauts_are_normalised_so_the_same_user_is_the_same()
    {
        var composed = UserRef.Parse("jürgen@contoso.com");
        var decomposed = UserRef.Parse("ju\u0308rgen@contoso.com");
        Assert.Equal(composed, decomposed);
        Assert.Equal(UserRef.Parse("JÜRGEN@contoso.com"), composed);
    }

    [Fact]
    public void Claims_names_and_OData_literals_escape_quotes_hashes_and_non_ascii()
    {
        var guest = UserRef.Parse("jane_fabrikam.com#EXT#@contoso.onmicrosoft.com");
        Assert.Equal("i:0#.f|membership|jane_fabrikam.com#EXT#@contoso.onmicrosoft.com", guest.ClaimsAccountName);
        Assert.Equal("'o''neil'", UrlText.ODataLiteral("o'neil"));
        var alias = UrlText.ODataAliasValue(UserRef.Parse("o'neil@contoso.com").ClaimsAccountName);
        Assert.Equal("%27i%3A0%23.f%7Cmembership%7Co%27%27neil%40contoso.com%27", alias);
        Assert.DoesNotContain("#", UrlText.ODataAliasValue(guest.ClaimsAccountName));
        Assert.Contains("j%C3%BCrgen", UrlText.ODataAliasValue("jürgen"));
    }

    [Fact]
    public void Legacy_prefixes_never_carry_url_syntax()
    {
        Assert.Equal("john_contoso_com", UserRef.Parse("john@contoso.com").LegacyFilePrefix);
        Assert.Equal("jane_fabrikam_com_EXT__contoso_onmicrosoft_com", UserRef.Parse("jane_fabrikam.com#EXT#@contoso.onmicrosoft.com").LegacyFilePrefix);
        Assert.Equal("o_neil_contoso_com", UserRef.Parse("o'neil@contoso.com").LegacyFilePrefix);
        Assert.Equal("j_rgen_contoso_com", UserRef.Parse("jürgen@contoso.com").LegacyFilePrefix);
    }

    [Fact]
    public void Paths_escape_per_segment()
    {
        Assert.Equal("/User%20Photos/Profile%20Pictures/a%23b.jpg", UrlText.EscapePath("/User Photos/Profile Pictures/a#b.jpg"));
        Assert.Equal("/User Photos/Profilbilder/x_MThumb.jpg", UrlText.ServerRelativePath(new Uri("https://c-my.sharepoint.com:443/User%20Photos/Profilbilder/x_MThumb.jpg?t=1")));
    }

    [Theory]
    [InlineData("contoso", "contoso")]
    [InlineData("Contoso.onmicrosoft.com", "contoso")]
    [InlineData("contoso.sharepoint.com", "contoso")]
    public void Tenant_names_give_the_default_hosts(string input, string name)
    {
        var e = ServiceEndpoints.ForTenant(input);
        Assert.Equal(name, e.TenantName);
        Assert.Equal(new Uri("https://graph.microsoft.com/"), e.GraphRoot);
        Assert.Equal("https://graph.microsoft.com/v1.0", e.GraphBaseUrl);
        Assert.Equal(new Uri($"https://{name}-my.sharepoint.com/"), e.MySiteHost);
        Assert.Equal(new Uri($"https://{name}-admin.sharepoint.com/"), e.SharePointAdmin);
    }

    [Theory]
    [InlineData("")]
    [InlineData("con toso")]
    [InlineData("https://contoso")]
    public void Bad_tenant_names_are_refused(string input) => Assert.Throws<ArgumentException>(() => ServiceEndpoints.ForTenant(input));
}
