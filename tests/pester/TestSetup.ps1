# Dot-sourced by every Pester file: where the built module and the emulator are, and helpers.
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:ModulePath = if ($env:PROFILESYNC_MODULE) { $env:PROFILESYNC_MODULE } else { Join-Path $RepoRoot 'out/ProfileSync/ProfileSync.psd1' }
$script:EmulatorPath = if ($env:PROFILESYNC_EMULATOR) { $env:PROFILESYNC_EMULATOR } else { Join-Path $RepoRoot 'out/emulator/ProfileSync.TenantEmulator.dll' }
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
