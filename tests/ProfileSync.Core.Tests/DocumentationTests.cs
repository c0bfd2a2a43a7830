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
