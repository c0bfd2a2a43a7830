namespace ProfileSync.Core.Diagnostics;

/// <summary>How one check of Test-ProfileSyncConnection came out.</summary>
public enum CheckStatus
{
    Passed,
    Failed,
    /// <summary>Not run: -ReadOnly, -WhatIf, declined, or a check it depends on failed (Detail says which).</summary>
    Skipped,
}

/// <summary>
/// One check of a connection: what was checked, whether it passed, what was seen and, when it did not
/// pass, what to do. A failed check is a result, never an exception. Details carry no token.
/// </summary>
public sealed record ProfileSyncCheck
{
    public required string Check { get; init; }
    /// <summary>"Graph" or "SharePoint".</summary>
    public required string Service { get; init; }
    public CheckStatus Status { get; init; }
    /// <summary>True only for a check that ran and passed; a skipped check is not a pass.</summary>
    public bool Passed => Status == CheckStatus.Passed;
    public required string Detail { get; init; }
    /// <summary>What to do; null when the check passed.</summary>
    public string? Remedy { get; init; }
    public TimeSpan Duration { get; init; }
    /// <summary>The failure behind a failed check, carried whole (ErrorId, HTTP status, service code).</summary>
    public Failure? Failure { get; init; }
    public string? ErrorId => Failure?.ErrorId;
    public int? HttpStatus => Failure?.HttpStatus;

    public override string ToString() => $"{Check}: {Status}";
}
