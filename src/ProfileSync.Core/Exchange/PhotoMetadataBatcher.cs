using ProfileSync.Core.Identity;

namespace ProfileSync.Core.Exchange;

/// <summary>
/// Gathers the photo-metadata lookups that users in flight ask for at about the same time into Graph
/// batches of up to 20: a batch goes out as soon as 20 are waiting, or a few milliseconds after the
/// first one arrived. The per-user engine stays one-user-at-a-time; Graph sees 1 request per 20 users.
/// One batcher belongs to one run (what it read ahead is that run's), so a later run never reads a
/// photo etag fetched before it started.
/// </summary>
public sealed class PhotoMetadataBatcher
{
    private readonly GraphPhotoBatch _batch;
    private readonly TimeSpan _window;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private List<(UserRef User, TaskCompletionSource<ExchangeLookup> Result)> _waiting = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<UserRef, Task<ExchangeLookup>> _prefetched = new();
    private long _generation;
    /// <summary>Batches sent and flushes pending, so a stopping run can wait until none is left.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _sending = new();

    public PhotoMetadataBatcher(GraphPhotoBatch batch, TimeSpan? window = null, TimeProvider? time = null)
    {
        _batch = batch;
        _window = window ?? TimeSpan.FromMilliseconds(5);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Asks now, in batches of 20, for users that will start soon (a run reads ahead of its users in
    /// flight): when SharePoint's pace admits users one by one, their lookups still go out 20 at a time.
    /// </summary>
    public void Prefetch(IReadOnlyList<UserRef> users, CancellationToken cancellationToken)
    {
        foreach (var chunk in users.Chunk(GraphPhotoBatch.MaxBatchSize))
        {
            var items = chunk.Select(u => (User: u, Result: new TaskCompletionSource<ExchangeLookup>(TaskCreationOptions.RunContinuationsAsynchronously))).ToList();
            foreach (var (user, result) in items) _prefetched[user] = result.Task;
            Track(SendAsync(items, cancellationToken));
        }
    }

    public Task<ExchangeLookup> GetAsync(UserRef user, CancellationToken cancellationToken)
    {
        if (_prefetched.TryRemove(user, out var ready)) return ready.WaitAsync(cancellationToken);
        var result = new TaskCompletionSource<ExchangeLookup>(TaskCreationOptions.RunContinuationsAsynchronously);
        List<(UserRef, TaskCompletionSource<ExchangeLookup>)>? full = null;
        long generation;
        bool first;
        lock (_gate)
        {
            _waiting.Add((user, result));
            first = _waiting.Count == 1;
            generation = _generation;
            if (_waiting.Count >= GraphPhotoBatch.MaxBatchSize) full = TakeWaiting();
        }
        if (full is not null) Track(SendAsync(full, cancellationToken));
        else if (first) Track(FlushLaterAsync(generation, cancellationToken));
        return result.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Waits until no batch is on its way; false when the time ran out.</summary>
    public bool WaitIdle(TimeSpan timeout)
    {
        var pending = _sending.Keys.ToArray();
        return pending.Length == 0 || Task.WaitAll(pending, timeout);
    }

    /// <summary>Keeps a send until it ends; sends never fault (SendAsync answers every waiter), so nothing goes unobserved.</summary>
    private void Track(Task send)
    {
        _sending[send] = 0;
        _ = send.ContinueWith(static (t, state) => ((System.Collections.Concurrent.ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _),
            _sending, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private List<(UserRef, TaskCompletionSource<ExchangeLookup>)> TakeWaiting()
    {
        var taken = _waiting;
        _waiting = new();
        _generation++;
        return taken;
    }

    private async Task FlushLaterAsync(long generation, CancellationToken cancellationToken)
    {
        await Task.Delay(_window, _time, CancellationToken.None).ConfigureAwait(false);
        List<(UserRef, TaskCompletionSource<ExchangeLookup>)>? due = null;
        lock (_gate)
        {
            if (_generation == generation && _waiting.Count > 0) due = TakeWaiting();
        }
        if (due is not null) await SendAsync(due, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendAsync(List<(UserRef User, TaskCompletionSource<ExchangeLookup> Result)> items, CancellationToken cancellationToken)
    {
        try
        {
            var answers = await _batch.GetPhotoInfosAsync(items.Select(i => i.User).ToList(), cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < items.Count; i++) items[i].Result.TrySetResult(answers[i]);
        }
        catch (ProfileSyncException ex)
        {
            foreach (var item in items) item.Result.TrySetResult(new ExchangeLookup(null, ex));
        }
        catch (OperationCanceledException ex)
        {
            foreach (var item in items) item.Result.TrySetCanceled(ex.CancellationToken);
        }
        catch (Exception ex)
        {
            foreach (var item in items) item.Result.TrySetException(ex);
        }
    }
}
