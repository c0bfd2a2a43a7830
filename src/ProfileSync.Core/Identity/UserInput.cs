namespace ProfileSync.Core.Identity;

/// <summary>One piece of a per-user command's input (a string, or a CSV row bound by column) read as a user, or what is wrong with it.</summary>
public static class UserInput
{
    public const string AcceptedColumns = "UserPrincipalName, UPN, Mail, Email, Identity, UserId";

    /// <summary>
    /// The user (by UPN, or by Entra object id: a GUID, as a UserId or Identity column often holds),
    /// or the failure: InvalidUserPrincipalName for a bad row (the run goes on), or, for the first row
    /// of a CSV without any user column, NoUserColumn marked as stopping the run: every row will be the
    /// same. A bad row's failure names its row number (<paramref name="inputIndex"/>, 1-based) and carries it.
    /// </summary>
    public static (UserRef? User, Failure? Failure) Read(string? input, bool firstRow, string command, int inputIndex)
    {
        if (UserRef.TryParse(input, out var user, out var error)) return (user, null);
        // Graph takes an object id wherever it takes a UPN; the run reads the UPN once (profiles need it).
        if (Guid.TryParseExact(input?.Trim(), "D", out var objectId)) return (UserRef.ForObjectId(objectId), null);
        // A row object without a column the parameter binds shows as its text: @{Login=...; Name=...}.
        if (input is not null && input.StartsWith("@{", StringComparison.Ordinal) && input.EndsWith('}'))
        {
            if (firstRow)
                return (null, Failure.Of(ErrorIds.NoUserColumn, $"The input has no column ProfileSync recognises (first row: {input}). Name the user column one of: {AcceptedColumns}.",
                    $"Rename the column, e.g. Import-Csv users.csv | Select-Object @{{n='UserPrincipalName';e={{$_.Login}}}} | {command}.") with { StopsRun = true, InputIndex = inputIndex });
            error = $"The input row {input} has no column ProfileSync recognises. Name the user column one of: {AcceptedColumns}.";
        }
        return (null, Failure.Of(ErrorIds.InvalidUserPrincipalName, $"Row {inputIndex}: {(error.Length > 0 ? error : "The user principal name is empty.")}") with { InputIndex = inputIndex });
    }
}
