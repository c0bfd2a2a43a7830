using System.Globalization;
using System.Runtime.InteropServices;

namespace ProfileSync.Core.SignIn;

/// <summary>
/// Whether this session can show a browser window to the admin. Windows and macOS have a desktop
/// unless reached over SSH; Linux (and other Unix) needs an X or Wayland display, which an SSH
/// session has only when it forwards one (ssh -X). Read from the environment given, so tests inject it.
/// </summary>
public sealed record SessionDisplay(bool CanShowBrowser, string Description)
{
    public static SessionDisplay Current() => Detect(Environment.GetEnvironmentVariable, CurrentPlatform());

    public static SessionDisplay Detect(Func<string, string?> environment, OSPlatform platform)
    {
        bool IsSet(string name) => !string.IsNullOrWhiteSpace(environment(name));
        var ssh = IsSet("SSH_CONNECTION") || IsSet("SSH_CLIENT") || IsSet("SSH_TTY");
        if (platform == OSPlatform.Windows || platform == OSPlatform.OSX)
            return ssh ? new(false, "an SSH session") : new(true, "a desktop session");
        if (IsSet("WAYLAND_DISPLAY") || IsSet("DISPLAY"))
            return new(true, ssh ? "an SSH session with a forwarded display" : "a graphical session");
        return new(false, ssh ? "an SSH session without a display" : "a session without a display (neither DISPLAY nor WAYLAND_DISPLAY is set)");
    }

    private static OSPlatform CurrentPlatform() =>
        OperatingSystem.IsWindows() ? OSPlatform.Windows : OperatingSystem.IsMacOS() ? OSPlatform.OSX : OSPlatform.Linux;
}

/// <summary>
/// What browser sign-in tells the admin: a warning before it waits, and one SignInFailed (with the
/// device-code advice) when no browser can be shown here or none answered in time. The browser flow
/// waits on a local redirect that never comes when the browser opened nowhere, so it must not wait unbounded.
/// </summary>
public static class BrowserSignIn
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(3);

    public const string NoBrowserAdvice =
        "Connect with -UseDeviceCode: the code and URL appear here and you sign in from a browser on any device. Unattended: a certificate or -ManagedIdentity.";

    public static string Waiting(TimeSpan timeout) => string.Create(CultureInfo.InvariantCulture,
        $"Waiting for the browser sign-in (up to {timeout.TotalSeconds:0} s, -TimeoutSeconds; Ctrl+C ends it). No browser here? Use -UseDeviceCode.");

    public static ProfileSyncException NoDisplay(SessionDisplay display) =>
        new(ErrorIds.SignInFailed, FailureKind.AuthenticationFailed,
            $"Browser sign-in needs a browser window, and this is {display.Description}: nobody would see the sign-in page.")
        { RecommendedAction = NoBrowserAdvice, StopsRun = true };

    public static ProfileSyncException TimedOut(TimeSpan timeout) =>
        new(ErrorIds.SignInFailed, FailureKind.AuthenticationFailed, string.Create(CultureInfo.InvariantCulture,
            $"No browser sign-in completed within {timeout.TotalSeconds:0} s (-TimeoutSeconds); no browser here, or the sign-in page was not finished."))
        { RecommendedAction = NoBrowserAdvice + " With a browser here: raise -TimeoutSeconds.", StopsRun = true };
}
