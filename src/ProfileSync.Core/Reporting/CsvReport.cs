using System.Globalization;

namespace ProfileSync.Core.Reporting;

/// <summary>
/// The CSV form of a report (RFC 4180). UPNs, reasons and URLs are data someone else wrote: a cell
/// that a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage return) is
/// written with a leading apostrophe, as OWASP advises for CSV injection.
/// </summary>
public static class CsvReport
{
    public static readonly string[] Columns =
    {
        "UserPrincipalName", "DisplayName", "State", "Action", "Reason", "ErrorId", "ComparedBy", "Distance", "ExchangePhotoETag", "SharePointPictureUrl", "CheckedAt",
        // Set-/Remove-ProfilePhoto rows (their State is empty): the operation and what happened on each side.
        "Operation", "Exchange", "SharePoint",
    };

    public static void Write(TextWriter writer, IEnumerable<ReportRow> rows)
    {
        writer.Write(string.Join(",", Columns));
        writer.Write("\r\n");
        foreach (var row in rows)
        {
            string?[] cells =
            {
                row.UserPrincipalName, row.DisplayName, row.State?.ToString(), row.Action, row.Reason, row.ErrorId,
                row.ComparedBy.ToString(), row.Distance?.ToString("0.0", CultureInfo.InvariantCulture), row.ExchangePhotoETag,
                row.SharePointPictureUrl, row.CheckedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                row.Operation, row.Exchange?.ToString(), row.SharePoint?.ToString(),
            };
            writer.Write(string.Join(",", cells.Select(Cell)));
            writer.Write("\r\n");
        }
    }

    /// <summary>One cell: defused if a spreadsheet would read it as a formula, then quoted if it needs to be.</summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.IndexOfAny(['"', ',', '\r', '\n']) >= 0 || value != value.Trim()
            ? "\"" + value.Replace("\"", "\"\"") + "\""
            : value;
    }
}
