# Dot-sourced by every Pester file: where the built module and the emulator are, and helpers.
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:ModulePath = if ($env:PROFILESYNC_MODULE) { $env:PROFILESYNC_MODULE } else { Join-Path $RepoRoot 'out/ProfileSync/ProfileSync.psd1' }
$script:EmulatorPath = if ($env:PROFILESYNC_EMULATOR) { $env:PROFILESYNC_EMULATOR } else { Join-Path $RepoRoot 'out/emulator/ProfileSync.TenantEmulator.dll' }
$script:ModuleVersion = (Import-PowerShellDataFile (Join-Path $RepoRoot 'ProfileSync.psd1')).ModuleVersion
$script:DemoScenario = Join-Path $RepoRoot 'tests/ProfileSync.TenantEmulator/scenarios/demo.json'
Import-Module (Join-Path $RepoRoot 'tests/EmulatorProcess.psm1') -Force
Import-Module $ModulePath -Force

# The expected state of each demo user before any sync.
$script:DemoStates = [ordered]@{
    'adele.vance@contoso.com'                        = 'InSync'
    'megan.bowen@contoso.com'                        = 'InSync'
    "o'neil@contoso.com"                             = 'Different'
    'jane_fabrikam.com#EXT#@contoso.onmicrosoft.com' = 'Different'
    'small.entra@contoso.com'                        = 'Different'
    'outside.tenant@contoso.com'                     = 'Different'
    'jürgen@contoso.com'                             = 'MissingInSharePoint'
    'placeholder.url@contoso.com'                    = 'MissingInSharePoint'
    'missing.file@contoso.com'                       = 'MissingInSharePoint'
    'portrait.png@contoso.com'                       = 'MissingInSharePoint'
    'no.photo1@contoso.com'                          = 'NoSourcePhoto'
    'no.photo5@contoso.com'                          = 'NoSourcePhoto'
    'no.profile@contoso.com'                         = 'NotFound'
    'left.company@contoso.com'                       = 'NotFound'
    'broken.photo@contoso.com'                       = 'Error'
}

# The pwsh that runs these tests, as a command line: under `dotnet pwsh` the process is dotnet itself.
function Get-PwshCommandLine {
    $dll = Join-Path $PSHOME 'pwsh.dll'
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet' -and (Test-Path $dll)) { return @($process, $dll) }
    @($process)
}

# A fresh emulator for one Describe block, with ProfileSync connected to it.
function Start-ConnectedEmulator([string] $Scenario = $DemoScenario) {
    $emulator = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $Scenario
    Connect-TenantEmulator $emulator
    $emulator
}

# Runs a script signed in as the emulator's managed identity, in its own process as a runbook is:
# Azure.Identity finds the endpoint through IDENTITY_ENDPOINT and IDENTITY_HEADER (and MSAL keeps
# managed identity tokens per process). Only endpoints differ from a real tenant. The script sets
# fields of $result; a terminating error is reported in Error, Message and Category.
function Invoke-ManagedIdentityProcess($Emulator, [string] $Script, [string] $ClientId, [string] $Before = '', [string] $After = '') {
    $connect = "Connect-ProfileSync -Pacing Adaptive -TenantName contoso -ManagedIdentity -GraphEndpoint '$($Emulator.Graph)' -MySiteHostUrl '$($Emulator.MySite)' -SharePointAdminUrl '$($Emulator.Admin)'"
    if ($ClientId) { $connect += " -ManagedIdentityClientId '$ClientId'" }
    $command = @"
`$ErrorActionPreference = 'Stop'; `$VerbosePreference = 'Continue'; `$DebugPreference = 'Continue'
`$result = [ordered]@{}
try { $Before } catch { `$result.BeforeError = `$_.Exception.Message }
try { Import-Module '$ModulePath'; $connect; $Script }
catch { `$result.Error = `$_.FullyQualifiedErrorId; `$result.Message = `$_.Exception.Message; `$result.Category = [string]`$_.CategoryInfo.Category }
try { $After } catch { `$result.AfterError = `$_.Exception.Message }
`$result | ConvertTo-Json -Depth 6 -Compress
"@
    $env:IDENTITY_ENDPOINT = $Emulator.IdentityEndpoint
    $env:IDENTITY_HEADER = $Emulator.IdentityHeader
    try {
        $pwsh = Get-PwshCommandLine
        $output = @(& $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -OutputFormat Text -Command $command 2>&1 | ForEach-Object { "$_" })
        $line = $output | Select-Object -Last 1
    }
    finally { Remove-Item env:IDENTITY_ENDPOINT, env:IDENTITY_HEADER -ErrorAction SilentlyContinue }
    # Every stream, verbose and debug included, went to this output: no token the identity endpoint issued may be in it.
    ($output -join "`n") | Should -Not -Match 'mi-[0-9a-f]{48}' -Because 'no token appears in any stream'
    ($output -join "`n") | Should -Not -Match ([regex]::Escape($Emulator.IdentityHeader)) -Because 'the identity header is a secret too'
    "$line" | Should -Match '^\{' -Because "the child run printed its result: $line"
    $line | ConvertFrom-Json
}

