using System.Reflection;

namespace ProfileSync.Core.Tests;

/// <summary>Issue 5, item 7: every ErrorId a script may meet is documented in the README, with what it means and what to do.</summary>
public class DocumentationTests
{
    internal static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ProfileSync.psd1"))) dir = dir.Parent;
            return dir?.FullName ?? throw new DirectoryNotFoundException("The repository root (ProfileSync.psd1) is not above the test binaries.");
        }
    }

    [Fact]
    public void Every_ErrorId_has_a_row_in_the_README_error_table_with_a_meaning_and_an_action()
    {
        var readme = File.ReadAllLines(Path.Combine(RepoRoot, "README.md"));
        var ids = typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).ToList();
        Assert.True(ids.Count >= 18, $"only {ids.Count} ErrorIds found");
        foreach (var id in ids)
        {
            var row = readme.FirstOrDefault(l => l.StartsWith("| ", StringComparison.Ordinal) && l.Split('|')[1].Contains($"`{id}`", StringComparison.Ordinal));
            Assert.True(row is not null, $"README has no error-table row for {id}");
            var cells = row!.Split('|', StringSplitOptions.TrimEntries);
            Assert.True(cells.Length >= 5 && cells[2].Length > 10 && cells[3].Length > 5, $"the README row of {id} lacks a meaning or an action: {row}");
        }
    }

    /// <summary>Issue 14, item 3: the README's "what to do" is, word for word (code marks aside), the advice every ErrorRecord of that ErrorId carries.</summary>
    [Fact]
    public void The_README_error_table_gives_each_ErrorId_the_advice_of_the_catalog()
    {
        var rows = ErrorTableRows(File.ReadAllLines(Path.Combine(RepoRoot, "README.md")));
        var ids = typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).ToHashSet();
        Assert.Equal(ids.Order(), rows.Keys.Order());
        Assert.Equal(ids.Order(), ErrorCatalog.All.Keys.Order());
        foreach (var (id, advice) in rows)
            Assert.True(Plain(ErrorCatalog.For(id).RecommendedAction) == advice, $"{id}: README says \"{advice}\", the catalog \"{ErrorCatalog.For(id).RecommendedAction}\"");
    }

    /// <summary>ErrorId to its "what to do" cell, for every row of the table under "### Errors" (a row may name several ids).</summary>
    private static Dictionary<string, string> ErrorTableRows(string[] readme)
    {
        var start = Array.IndexOf(readme, "### Errors");
        Assert.True(start >= 0, "README has no '### Errors' section");
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in readme.Skip(start + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            Assert.True(cells.Length == 5, $"an error-table row without three cells: {line}");
            foreach (System.Text.RegularExpressions.Match id in System.Text.RegularExpressions.Regex.Matches(cells[1], "`([A-Za-z]+)`"))
                Assert.True(rows.TryAdd(id.Groups[1].Value, Plain(cells[3])), $"{id.Groups[1].Value} has two rows");
        }
        return rows;
    }

    private static string Plain(string text) => System.Text.RegularExpressions.Regex.Replace(text.Replace("`", ""), @"\s+", " ").Trim();
}

/// <summary>Issue 11: every ErrorId has its own kind and advice in one table, and failures carry them to the ErrorRecord.</summary>
public class ErrorCatalogTests
{
    public static TheoryData<string> AllErrorIds()
    {
        var data = new TheoryData<string>();
        foreach (var f in typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static)) data.Add((string)f.GetValue(null)!);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllErrorIds))]
    public void Every_ErrorId_has_an_entry_with_its_own_advice(string errorId)
    {
        Assert.True(ErrorCatalog.Has(errorId), $"{errorId} has no entry in ErrorCatalog");
        var failure = Failure.Of(errorId, "message");
        Assert.False(string.IsNullOrWhiteSpace(failure.RecommendedAction));
        var serviceIds = new[] { ErrorIds.ExchangeRequestFailed, ErrorIds.SharePointRequestFailed };
        if (!serviceIds.Contains(errorId)) Assert.DoesNotContain("service health", failure.RecommendedAction);
    }

    [Fact]
    public void A_failure_from_an_exception_keeps_status_service_code_action_and_the_exception()
    {
        var inner = new IOException("socket");
        var ex = new ProfileSyncException(ErrorIds.SharePointRequestFailed, FailureKind.ServiceError, "SharePoint answered 500", inner)
        { StatusCode = 500, ServiceErrorCode = "-2146232832", Service = "SharePoint", RecommendedAction = "specific" };
        var failure = ex.Failure;
        Assert.Equal((500, "-2146232832", "SharePoint", "specific"), (failure.HttpStatus, failure.ServiceErrorCode, failure.Service, failure.RecommendedAction));
        Assert.Same(ex, failure.ToException());
        Assert.Same(inner, failure.ToException().InnerException);
        Assert.Same(ex, failure.WithMessage("adele@contoso.com: SharePoint answered 500").ToException());
    }
}
