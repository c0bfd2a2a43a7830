<#
.SYNOPSIS
    One measured benchmark run in its own process (so wall time and peak memory belong to it alone).
    Reads the emulator's endpoints and tokens from PROFILESYNC_BENCH_* variables; prints one JSON line.
#>
param(
    [Parameter(Mandatory)] [ValidateSet('Baseline', 'ProfileSync')] [string] $Kind,
    [Parameter(Mandatory)] [ValidateSet('Check', 'Sync')] [string] $Mode,
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $UsersFile,
    # Sync only: rewrite users found InSync too (prepares a tenant whose every photo ProfileSync wrote).
    [switch] $Force,
    # ProfileSync only: Adaptive (by SharePoint's answers alone; the existing runs, so their figures stay comparable)
    # or Ceilings (the module's default: paced under the three ceilings, the band from Graph /subscribedSkus).
    [ValidateSet('Adaptive', 'Ceilings')] [string] $Pacing = 'Adaptive'
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$e = $env:PROFILESYNC_BENCH_GRAPH, $env:PROFILESYNC_BENCH_MYSITE, $env:PROFILESYNC_BENCH_ADMIN
$clock = [Diagnostics.Stopwatch]::StartNew()
if ($Kind -eq 'Baseline') {
    . (Join-Path $PSScriptRoot 'Baseline.ps1')
    $users = Get-Content $UsersFile
    $outcomes = Invoke-BaselinePhotoRun -UserPrincipalName $users -Mode $Mode -Graph $e[0] -MySite $e[1] -Admin $e[2] `
        -GraphToken $env:PROFILESYNC_BENCH_GRAPHTOKEN -SharePointToken $env:PROFILESYNC_BENCH_SPOTOKEN
}
else {
    Connect-ProfileSync -Pacing $Pacing -TenantName contoso -GraphEndpoint $e[0] -MySiteHostUrl $e[1] -SharePointAdminUrl $e[2] `
        -GraphAccessToken (ConvertTo-SecureString $env:PROFILESYNC_BENCH_GRAPHTOKEN -AsPlainText -Force) `
        -SharePointAccessToken (ConvertTo-SecureString $env:PROFILESYNC_BENCH_SPOTOKEN -AsPlainText -Force)
    $outcomes = @{}
    $run = if ($Mode -eq 'Check') { { Get-PhotoSyncState -All -ErrorAction SilentlyContinue } } else { { Sync-ProfilePhoto -All -ErrorAction SilentlyContinue -Confirm:$false -Force:$Force } }
    & $run | ForEach-Object {
        $key = if ($Mode -eq 'Check') { [string]$_.State } else { [string]$_.Action }
        $outcomes[$key] = 1 + [int]$outcomes[$key]
    }
}
$clock.Stop()
$process = [Diagnostics.Process]::GetCurrentProcess()
[pscustomobject]@{
    Seconds  = [math]::Round($clock.Elapsed.TotalSeconds, 2)
    PeakMB   = [math]::Round($process.PeakWorkingSet64 / 1MB, 0)
    Outcomes = $outcomes
} | ConvertTo-Json -Compress
