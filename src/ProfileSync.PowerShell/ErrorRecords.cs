using System.Management.Automation;
using ProfileSync.Core;

namespace ProfileSync.PowerShell;

/// <summary>
/// The one factory of ErrorRecords: from a <see cref="Failure"/>, with its stable ErrorId, the
/// category of its kind, the user (or row, or tenant) as target, the exception it came from (status,
/// service code and inner exception kept) and its own recommended action.
/// </summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(Failure failure, object? target) =>
        new(failure.ToException(), failure.ErrorId, Category(failure.Kind), target)
        {
            ErrorDetails = new ErrorDetails(failure.Message) { RecommendedAction = failure.RecommendedAction },
        };

    /// <summary>
    /// A user's error: the user as target, the user's name (and input row, when given) in front of the
    /// message (or of <paramref name="message"/>).
    /// </summary>
    public static ErrorRecord ForUser(Failure failure, string userPrincipalName, string? message = null, int? inputIndex = null) =>
        From(failure.WithMessage($"{userPrincipalName}{(inputIndex is int row ? $" (row {row})" : "")}: {message ?? failure.Message}"), userPrincipalName);

    /// <summary>A failure found in the cmdlet layer (bad parameter, bad row): its kind and action from <see cref="ErrorCatalog"/> unless given.</summary>
    public static ErrorRecord For(string errorId, string message, object? target, string? recommendedAction = null) =>
        From(Failure.Of(errorId, message, recommendedAction), target);

    internal static ErrorCategory Category(FailureKind kind) => kind switch
    {
        FailureKind.InvalidInput => ErrorCategory.InvalidArgument,
        FailureKind.NotFound => ErrorCategory.ObjectNotFound,
        FailureKind.AuthenticationFailed => ErrorCategory.AuthenticationError,
        FailureKind.AccessDenied => ErrorCategory.PermissionDenied,
        FailureKind.Throttled => ErrorCategory.LimitsExceeded,
        FailureKind.InvalidData => ErrorCategory.InvalidData,
        FailureKind.ConnectionError => ErrorCategory.ConnectionError,
        _ => ErrorCategory.ResourceUnavailable,
    };
}
