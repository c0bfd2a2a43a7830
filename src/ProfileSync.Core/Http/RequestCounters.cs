namespace ProfileSync.Core.Http;

/// <summary>What a connection has spent of each service's budget. Thread-safe; read for summaries and the benchmark.</summary>
public sealed class RequestCounters
{
    private long _graphRequests, _sharePointRequests, _otherRequests, _graphThrottled, _sharePointThrottled, _retries, _bytesReceived, _bytesSent;

    public long GraphRequests => Interlocked.Read(ref _graphRequests);
    public long SharePointRequests => Interlocked.Read(ref _sharePointRequests);
    public long OtherRequests => Interlocked.Read(ref _otherRequests);
    public long GraphThrottled => Interlocked.Read(ref _graphThrottled);
    public long SharePointThrottled => Interlocked.Read(ref _sharePointThrottled);
    public long Retries => Interlocked.Read(ref _retries);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    internal void CountRequest(ServiceKind kind, long bytesSent)
    {
        Interlocked.Add(ref _bytesSent, bytesSent);
        switch (kind)
        {
            case ServiceKind.Graph: Interlocked.Increment(ref _graphRequests); break;
            case ServiceKind.SharePoint: Interlocked.Increment(ref _sharePointRequests); break;
            default: Interlocked.Increment(ref _otherRequests); break;
        }
    }

    internal void CountThrottled(ServiceKind kind)
    {
        if (kind == ServiceKind.Graph) Interlocked.Increment(ref _graphThrottled);
        else if (kind == ServiceKind.SharePoint) Interlocked.Increment(ref _sharePointThrottled);
    }

    internal void CountRetry() => Interlocked.Increment(ref _retries);
    internal void CountReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);
}
