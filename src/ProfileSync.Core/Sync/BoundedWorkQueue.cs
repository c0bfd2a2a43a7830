using System.Threading.Channels;

namespace ProfileSync.Core.Sync;

/// <summary>
/// Runs at most N pieces of work at once on the thread pool and hands their results back to one
/// consumer thread (the PowerShell pipeline thread), which is the only thread that writes output.
/// Workers never call back into the host; they only complete into the channel.
/// </summary>
public sealed class BoundedWorkQueue<T> : IDisposable
{
    private readonly Channel<T> _completed = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _cancel;
    private readonly int _maxInFlight;
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _idle = new(true);
    private int _inFlight;
    private int _unpublished; // started and whose result is not yet in the channel: idle means none
    private int _untaken; // started and not yet handed to the consumer
    private bool _disposed;

    public BoundedWorkQueue(int maxInFlight, CancellationToken cancellationToken)
    {
        if (maxInFlight < 1) throw new ArgumentOutOfRangeException(nameof(maxInFlight));
        _maxInFlight = maxInFlight;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    public CancellationToken Token => _cancel.Token;
    public int InFlight => Volatile.Read(ref _inFlight);
    public bool HasCapacity => InFlight < _maxInFlight;
    /// <summary>Work still running, or results not yet taken.</summary>
    public bool HasPending => Volatile.Read(ref _untaken) > 0;

    /// <summary>
    /// Starts work. <paramref name="onError"/> turns an unexpected exception into a result, so nothing is
    /// lost and the task is never faulted (nothing goes unobserved); it must not throw itself.
    /// </summary>
    public void Start(Func<CancellationToken, Task<T>> work, Func<Exception, T> onError)
    {
        lock (_gate)
        {
            _inFlight++;
            if (_unpublished++ == 0) _idle.Reset();
            _untaken++;
        }
        _ = Task.Run(async () =>
        {
            T result;
            try { result = await work(_cancel.Token).ConfigureAwait(false); }
            catch (Exception ex) { result = onError(ex); }
            // The slot is free before the result is visible: a consumer that takes a result and then
            // asks HasCapacity must see the room this result made, or `while (!HasCapacity) Take()` can wait forever.
            lock (_gate) _inFlight--;
            _completed.Writer.TryWrite(result);
            // Idle only once the result can be taken: a stop that waited for idle then finds every result.
            lock (_gate)
            {
                if (--_unpublished == 0) _idle.Set();
            }
        });
    }

    public bool TryTake(out T result)
    {
        if (!_completed.Reader.TryRead(out result!)) return false;
        lock (_gate) _untaken--;
        return true;
    }

    /// <summary>Blocks the consumer until a result is ready. Throws OperationCanceledException when cancelled.</summary>
    public T Take() => Take(_cancel.Token);

    /// <summary>Blocks until a result is ready or <paramref name="cancellationToken"/> (not the queue's own) ends the wait.</summary>
    public T Take(CancellationToken cancellationToken)
    {
        if (!_completed.Reader.TryRead(out var result))
            result = _completed.Reader.ReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
        lock (_gate) _untaken--;
        return result;
    }

    /// <summary>Waits until no work is running and every result is in the channel (to be taken); false when the time ran out.</summary>
    public bool WaitIdle(TimeSpan timeout) => _idle.Wait(timeout);

    /// <summary>Cancels the work's token; a no-op once disposed (Ctrl+C can come while the command is being disposed).</summary>
    public void Cancel()
    {
        lock (_gate)
        {
            if (!_disposed) _cancel.Cancel();
        }
    }

    public bool IsCancellationRequested => _cancel.IsCancellationRequested;

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _cancel.Dispose();
        _idle.Dispose();
    }
}
