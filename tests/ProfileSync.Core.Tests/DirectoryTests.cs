using System.Net;
using ProfileSync.Core.Exchange;
using ProfileSync.TenantEmulator;

namespace ProfileSync.Core.Tests;

public class DirectoryTests
{
    [Fact]
    public async Task All_mailbox_users_are_listed_page_by_page_with_the_count_and_without_the_others()
    {
        var scenario = Scenario.Parse("""
        { "users": [ { "upn": "nomail@contoso.com", "mailbox": false, "sharePoint": "none" }, { "upn": "gone@contoso.com", "inGraph": false, "sharePoint": "none" } ],
          "population": { "count": 2100, "upnFormat": "u{0:0000}@contoso.com", "mix": [ "none" ] } }
        """);
        await using var emulator = await Emulator.StartAsync(scenario);
        using var connection = EmulatorServiceTests.Connect(emulator);
        var directory = new MailboxUserDirectory(connection.Pipeline, connection.Endpoints);
        var seen = new List<string>();
        await foreach (var user in directory.ListAsync(CancellationToken.None))
        {
            seen.Add(user.UserPrincipalName);
            if (seen.Count == 1) Assert.Equal(2100, directory.TotalCount);
        }
        Assert.Equal(2100, seen.Count);
        Assert.Equal(2100, seen.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.DoesNotContain("nomail@contoso.com", seen);
        Assert.DoesNotContain("gone@contoso.com", seen);
        var pages = emulator.State.RequestLog.Where(e => e.Service == "graph").ToList();
        Assert.Equal(3, pages.Count);
        Assert.Contains("%24filter=mail%20ne%20null", pages[0].Target.Replace("$filter", "%24filter"));
    }

    [Fact]
    public async Task The_emulator_refuses_the_mail_filter_without_ConsistencyLevel_eventual_like_Graph()
    {
        await using var emulator = await Emulator.StartAsync(Scenario.Parse("""{ "users": [] }"""));
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(emulator.GraphUrl, "v1.0/users?$filter=mail%20ne%20null&$top=999"));
        request.Headers.Authorization = new("Bearer", emulator.GraphToken);
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Request_UnsupportedQuery", await response.Content.ReadAsStringAsync());
    }
}
