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
