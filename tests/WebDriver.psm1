# A small W3C WebDriver client over ChromeDriver's HTTP API, enough for the report test: open a page,
# find elements, click, type, read text, run a script, take a screenshot. No browser download, no package.
$script:ElementKey = 'element-6066-11e4-a52e-4f735466cecf'

function Start-HeadlessChromium {
    param([string] $Chromium = '/usr/bin/chromium', [string] $Driver = '/usr/bin/chromedriver', [int] $Width = 1200, [int] $Height = 1400)
    foreach ($path in $Chromium, $Driver) { if (-not (Test-Path $path)) { throw "$path is missing: 'dotnet pwsh ./build.ps1 Test' installs Debian's chromium and chromium-driver." } }
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $process = Start-Process $Driver -ArgumentList "--port=$port" -PassThru -RedirectStandardOutput ([IO.Path]::GetTempFileName())
    $base = "http://127.0.0.1:$port"
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while ($true) {
        try { $null = Invoke-RestMethod "$base/status" -TimeoutSec 2; break }
        catch { if ([DateTime]::UtcNow -gt $deadline) { $process.Kill(); throw "ChromeDriver did not start on port $port." }; Start-Sleep -Milliseconds 100 }
    }
    $profile = Join-Path ([IO.Path]::GetTempPath()) ("chromium-" + [guid]::NewGuid().ToString('N'))
    # The flags keep a closed network quiet: no background connections, no component or sync updates.
    $arguments = @('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', "--user-data-dir=$profile", "--window-size=$Width,$Height")
    $body = @{ capabilities = @{ alwaysMatch = @{ browserName = 'chrome'; 'goog:chromeOptions' = @{ binary = $Chromium; args = $arguments } } } } | ConvertTo-Json -Depth 6
    $session = (Invoke-RestMethod -Method Post "$base/session" -Body $body -ContentType 'application/json' -TimeoutSec 60).value.sessionId
    [pscustomobject]@{ Base = "$base/session/$session"; Process = $process; Profile = $profile }
}

function Stop-HeadlessChromium($Browser) {
    try { Invoke-RestMethod -Method Delete $Browser.Base -TimeoutSec 10 | Out-Null } catch { }
    if (-not $Browser.Process.HasExited) { $Browser.Process.Kill() }
    Remove-Item $Browser.Profile -Recurse -Force -ErrorAction SilentlyContinue
}

function Invoke-WebDriver($Browser, [string] $Method, [string] $Path, $Body = @{}) {
    $arguments = @{ Method = $Method; Uri = "$($Browser.Base)$Path"; TimeoutSec = 60; ContentType = 'application/json' }
    if ($Method -ne 'Get') { $arguments.Body = ($Body | ConvertTo-Json -Depth 6 -Compress) }
    (Invoke-RestMethod @arguments).value
}

function Open-Page($Browser, [string] $Url) { Invoke-WebDriver $Browser Post '/url' @{ url = $Url } | Out-Null }
function Find-Element($Browser, [string] $Css) { (Invoke-WebDriver $Browser Post '/element' @{ using = 'css selector'; value = $Css }).$script:ElementKey }
function Find-Elements($Browser, [string] $Css) { @(Invoke-WebDriver $Browser Post '/elements' @{ using = 'css selector'; value = $Css }) | ForEach-Object { $_.$script:ElementKey } }
function Get-ElementText($Browser, [string] $Element) { Invoke-WebDriver $Browser Get "/element/$Element/text" }
function Invoke-Click($Browser, [string] $Element) { Invoke-WebDriver $Browser Post "/element/$Element/click" | Out-Null }
function Send-Keys($Browser, [string] $Element, [string] $Text) { Invoke-WebDriver $Browser Post "/element/$Element/value" @{ text = $Text } | Out-Null }
function Invoke-PageScript($Browser, [string] $Script) { Invoke-WebDriver $Browser Post '/execute/sync' @{ script = $Script; args = @() } }
function Save-Screenshot($Browser, [string] $Path) { [IO.File]::WriteAllBytes($Path, [Convert]::FromBase64String((Invoke-WebDriver $Browser Get '/screenshot'))) }

Export-ModuleMember -Function Start-HeadlessChromium, Stop-HeadlessChromium, Open-Page, Find-Element, Find-Elements, Get-ElementText, Invoke-Click, Send-Keys, Invoke-PageScript, Save-Screenshot
