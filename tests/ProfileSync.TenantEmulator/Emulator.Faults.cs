namespace ProfileSync.TenantEmulator;

/// <summary>Injected faults (the scenario's FaultPlan): throttling storms, server errors, resets, timeouts.</summary>
public sealed partial class Emulator
{
    private async Task<bool> InjectGraphFaultAsync(HttpContext ctx, string target)
    {
        switch (_faults.Decide(Scenario.Faults, "graph", ctx.Request.Method, target, false, false))
        {
            case "throttle":
                ctx.Response.Headers.RetryAfter = Scenario.Faults!.RetryAfterSeconds.ToString();
                await GraphErrorAsync(ctx, 429, "TooManyRequests", "Too many requests. Retry after the time in the Retry-After header.");
                return true;
            case "server-error":
                await GraphErrorAsync(ctx, 500, "generalException", "An unexpected error occurred.");
                return true;
            case "reset" or "reset-upload":
                ctx.Abort();
                return true;
            case "timeout":
                await HoldWithoutAnswerAsync(ctx);
                return true;
            default:
                return false;
        }
    }

    /// <summary>An injected timeout: no answer until the client gives up (or the hold time passes), then the connection drops.</summary>
    private async Task HoldWithoutAnswerAsync(HttpContext ctx)
    {
        try { await Task.Delay(TimeSpan.FromSeconds(Scenario.Faults!.TimeoutSeconds), ctx.RequestAborted); }
        catch (OperationCanceledException) { }
        ctx.Abort();
    }

    private async Task<bool> InjectSharePointFaultAsync(HttpContext ctx, string target)
    {
        var path = ctx.Request.Path.Value ?? "";
        var isUpload = ctx.Request.Method == "POST" && path.Contains("/Files/AddUsingPath(", StringComparison.OrdinalIgnoreCase);
        var isProfileWrite = ctx.Request.Method == "POST" && path.EndsWith("/SetSingleValueProfileProperty", StringComparison.OrdinalIgnoreCase);
        switch (_faults.Decide(Scenario.Faults, "sharepoint", ctx.Request.Method, target, isUpload, isProfileWrite))
        {
            case "throttle":
                ctx.Response.Headers.RetryAfter = Scenario.Faults!.RetryAfterSeconds.ToString();
                await ThrottledAsync(ctx, 429);
                return true;
            case "throttle-no-retry-after":
                await SharePointErrorAsync(ctx, 503, "-1, Microsoft.SharePoint.Client.ServerUnavailableException", "The service is unavailable.");
                return true;
            case "server-error" or "profile-write-error":
                await SharePointErrorAsync(ctx, 500, "-1, System.InvalidOperationException", "Unexpected error on the server.");
                return true;
            case "reset":
                ctx.Abort();
                return true;
            case "timeout":
                await HoldWithoutAnswerAsync(ctx);
                return true;
            case "reset-upload":
                // Half the body arrives, then the connection drops: nothing is stored.
                var half = new byte[Math.Max(1, (int)((ctx.Request.ContentLength ?? 2) / 2))];
                try { await ctx.Request.Body.ReadAtLeastAsync(half, half.Length, throwOnEndOfStream: false); } catch (IOException) { }
                ctx.Abort();
                return true;
            default:
                return false;
        }
    }
}
