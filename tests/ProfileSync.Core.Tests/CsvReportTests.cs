using ProfileSync.Core.Reporting;
using ProfileSync.Core.Sync;

namespace ProfileSync.Core.Tests;

/// <summary>Issue 5, item 6: user-controlled text in a CSV never runs as a formula and never breaks the row.</summary>
public class CsvReportTests
{
    [Theory]
    [InlineData("=HYPERLINK(\"http://evil\",\"x\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"")]
    [InlineData("+1+1", "'+1+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\t=1", "'\t=1")]
    [InlineData("o'neil@contoso.com", "o'neil@contoso.com")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void A_cell_is_defused_and_quoted(string? value, string expected) => Assert.Equal(expected, CsvReport.Cell(value));

    [Fact]
    public void A_report_keeps_one_line_per_user_whatever_the_names_hold()
    {
        var rows = new[]
        {
            new ReportRow { UserPrincipalName = "=cmd|' /C calc'!A0@contoso.com", State = PhotoState.Different, Reason = "a \"quoted\", multi\r\nline reason", CheckedAt = DateTimeOffset.UnixEpoch },
            new ReportRow { UserPrincipalName = "adele@contoso.com", State = PhotoState.InSync, Action = SyncAction.Skipped, CheckedAt = DateTimeOffset.UnixEpoch },
        };
        var writer = new StringWriter();
        CsvReport.Write(writer, rows);
        var text = writer.ToString();
        Assert.StartsWith("UserPrincipalName,DisplayName,State,Action,Reason,ErrorId,", text);
        Assert.Contains("'=cmd|' /C calc'!A0@contoso.com,,Different,,\"a \"\"quoted\"\", multi\r\nline reason\",", text);
        Assert.Contains("\r\nadele@contoso.com,,InSync,Skipped,,,None,,,,1970-01-01T00:00:00Z\r\n", text);
        // No line of the file starts with a formula character.
        Assert.DoesNotContain(text.Split("\r\n"), line => line.Length > 0 && line[0] is '=' or '+' or '-' or '@');
    }
}
