using System.Diagnostics;
using System.Text.Json;
using ProfileSync.TenantEmulator;

// Usage: ProfileSync.TenantEmulator --scenario <file.json> [--latency-ms N] [--parent-pid PID]
// Prints one JSON line with the endpoints and tokens, then serves until Ctrl+C, the parent process
// exits, or the process is killed. (Not stdin: CI runs with none.)
string? scenarioPath = null;
int? latency = null;
int? parentPid = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--scenario": scenarioPath = args[++i]; break;
        case "--latency-ms": latency = int.Parse(args[++i]); break;
        case "--parent-pid": parentPid = int.Parse(args[++i]); break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'.");
            return 2;
    }
}
if (scenarioPath is null)
{
    Console.Error.WriteLine("Usage: ProfileSync.TenantEmulator --scenario <file.json> [--latency-ms N] [--parent-pid PID]");
    return 2;
}
var scenario = Scenario.Load(scenarioPath);
if (latency is not null) scenario.LatencyMs = latency.Value;
await using var emulator = await Emulator.StartAsync(scenario);
Console.Out.WriteLine(JsonSerializer.Serialize(new
{
    tenant = scenario.Tenant,
    graph = emulator.GraphUrl.ToString(),
    mySite = emulator.MySiteUrl.ToString(),
    admin = emulator.AdminUrl.ToString(),
    control = emulator.ControlUrl.ToString(),
    graphToken = emulator.GraphToken,
    identityEndpoint = emulator.IdentityUrl.ToString(),
    identityHeader = emulator.Identity.Header,
    sharePointToken = emulator.SharePointToken,
    users = emulator.State.Users.Count(),
}));
Console.Out.Flush();

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
// The hosts only StartAsync, so ASP.NET's console lifetime would swallow SIGTERM (e.g. from `timeout`): stop on it ourselves.
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => stop.TrySetResult());
if (parentPid is not null)
{
    _ = Task.Run(async () =>
    {
        while (true)
        {
            try
            {
                using var parent = Process.GetProcessById(parentPid.Value);
                if (parent.HasExited) break;
            }
            catch (ArgumentException) { break; }
            await Task.Delay(1000);
        }
        stop.TrySetResult();
    });
}
await stop.Task;
return 0;
