namespace ProfileSync.Core.Http;

public enum ServiceKind
{
    Graph,
    SharePoint,
    /// <summary>Any other host: never given a token.</summary>
    Other,
}
