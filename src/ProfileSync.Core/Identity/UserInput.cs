namespace ProfileSync.Core.Identity;

/// <summary>One piece of a per-user command's input (a string, or a CSV row bound by column) read as a user, or what is wrong with it.</summary>
public static class UserInput
{
    public const string AcceptedColumns = "UserPrincipalName, UPN, Mail, Email, Identity, UserId";

    /// <summary>
    /// The user, or the failure: InvalidUserPrincipalName for a bad row (the run goes on), or, for the
    /// first row of a CSV without any user column, NoUserColumn marked as stopping the run: every row
    /// will be the same.
    /// </summary>
    public static (UserRef? User, Failure? Failure) Read(string? input, bool firstRow, string command)
    {
        if (UserRef.TryParse(input, out var user, out var error)) return (user, null);
        // A row object without a column the parameter binds shows as its text: @{Login=...; Name=...}.
        if (input is not null && input.StartsWith("@{", StringComparison.Ordinal) && input.EndsWith('}'))
        {
            if (firstRow)
                return (null, Failure.Of(ErrorIds.NoUserColumn, $"The input has no column ProfileSync recognises (first row: {input}). Name the user column one of: {AcceptedColumns}.",
                    $"Rename the column, e.g. Import-Csv users.csv | Select-Object @{{n='UserPrincipalName';e={{$_.Login}}}} | {command}.") with { StopsRun = true });
            error = $"The input row {input} has no column ProfileSync recognises. Name the user column one of: {AcceptedColumns}.";
        }
        return (null, Failure.Of(ErrorIds.InvalidUserPrincipalName, error ?? "The user principal name is empty."));
    }
}
