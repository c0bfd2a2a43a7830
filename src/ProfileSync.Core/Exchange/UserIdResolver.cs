using System.Collections.Concurrent;
using System.Text.Json;
using ProfileSync.Core.Http;
using ProfileSync.Core.Identity;

namespace ProfileSync.Core.Exchange;

/// <summary>
/// Reads the UPN of users given by Entra object id (a UserId column often holds one): Graph takes an
/// id wherever it takes a UPN, but SharePoint finds profiles by UPN only, so each such user is read
/// once, <c>GET /users/{id}?$select=id,userPrincipalName</c> (User.Read.All). A run asks ahead for
/// up to 20 in one $batch; an item the batch could not answer (throttled, failed) is read again alone,
/// through the pipeline's retries.
/// </summary>
public sealed class UserIdResolver
{
    private readonly HttpClient _http;
    private readonly Uri _batchUrl;
    private readonly ExchangePhotoClient _single;
    private readonly ConcurrentDictionary<string, Task<BatchLookup>> _ahead = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<Task, byte> _sending = new();

    public UserIdResolver(ServiceHttpPipeline pipeline, ServiceEndpoints endpoints, ExchangePhotoClient single)
    {
        _http = pipeline.Client;
        _batchUrl = new Uri(endpoints.GraphBaseUrl + "/$batch");
        _single = single;
    }

    /// <summary>What a batch answered for one id: the user (null: Graph knows no such id), or nothing (read it alone).</summary>
    private readonly record struct BatchLookup(bool Answered, UserRef? User);

    /// <summary>Asks now, 20 ids a request, for users given by object id that will start soon.</summary>
    public void Prefetch(IReadOnlyList<UserRef> users, CancellationToken cancellationToken)
    {
        foreach (var chunk in users.Where(u => !u.UpnKnown).Chunk(GraphPhotoBatch.MaxBatchSize))
        {
            var send = SendAsync(chunk, cancellationToken);
            for (var i = 0; i < chunk.Length; i++)
            {
                var index = i;
                _ahead[chunk[i].UserPrincipalName] = send.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result[index] : default,
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            _sending[send] = 0;
            _ = send.ContinueWith(t => _sending.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// The user with the UPN Graph holds for its object id; a user whose UPN is known comes back as it is.
    /// An id Graph does not know throws UserNotFound naming the input row.
    /// </summary>
    public async Task<UserRef> ResolveAsync(UserRef user, int inputIndex, CancellationToken cancellationToken)
    {
        if (user.UpnKnown) return user;
        var lookup = _ahead.TryRemove(user.UserPrincipalName, out var ahead) ? await ahead.WaitAsync(cancellationToken).ConfigureAwait(false) : default;
        UserRef? resolved;
        if (lookup.Answered) resolved = lookup.User;
        else
        {
            var info = await _single.GetUserAsync(user, cancellationToken).ConfigureAwait(false);
            resolved = info?.UserPrincipalName is string upn && UserRef.TryParse(upn, out var parsed, out _) ? user.WithUpn(parsed!) : null;
        }
        return resolved ?? throw new ProfileSyncException(Failure.Of(ErrorIds.UserNotFound,
            $"Graph knows no user with the object id '{user.UserPrincipalName}' (404 Request_ResourceNotFound).",
            "Check the object id in the row (Entra admin center, Users, Object ID), or give the user's UPN; the other rows go on.") with { Service = "Graph", HttpStatus = 404, InputIndex = inputIndex });
    }

    /// <summary>Waits until no batch is on its way; false when the time ran out.</summary>
    public bool WaitIdle(TimeSpan timeout)
    {
        var pending = _sending.Keys.ToArray();
        return pending.Length == 0 || Task.WaitAll(pending, timeout);
    }

    private async Task<BatchLookup[]> SendAsync(UserRef[] users, CancellationToken cancellationToken)
    {
        var results = new BatchLookup[users.Length];
        try
        {
            using var request = GraphPhotoBatch.BatchOfGets(_batchUrl, users.Select((u, i) => (i, "/users/" + Uri.EscapeDataString(u.UserPrincipalName) + "?$select=id,userPrincipalName")).ToList());
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) return results; // each is read alone, where a failure is reported for its user
            var answers = GraphPhotoBatch.ParseAnswers(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            for (var i = 0; i < users.Length; i++)
            {
                if (!answers.TryGetValue(i, out var answer)) continue;
                if (answer.Status == 200 && answer.String("userPrincipalName") is string upn && UserRef.TryParse(upn, out var parsed, out _))
                    results[i] = new BatchLookup(true, users[i].WithUpn(parsed!));
                else if (GraphWireFormat.MeansUnknownUser(answer.Status, answer.ErrorCode))
                    results[i] = new BatchLookup(true, null);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or ProfileSyncException or JsonException)
        {
            // Read alone instead: the single read reports the failure for its user.
        }
        return results;
    }
}
