<#
.SYNOPSIS
    The benchmark: a community-style baseline and ProfileSync, each against a fresh tenant emulator
    with 20 ms latency and the documented limits, in the same run. Prints a table and writes
    out/bench.md. Not a test: figures, not pass/fail.
.DESCRIPTION
    Efficiency = the fastest time the emulator's limits allow for the requests the run made, divided
    by the measured time. The lower bound is the larger of: the SharePoint budget (a sliding
    one-minute window, so the k-th successful SharePoint request cannot start before
    60 s * floor((k-1)/budget)) and the latency chain of one user (17 sequential requests at the
    injected latency: the longest a user's sync can be).
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $EmulatorPath,
    [string] $Scenario = (Join-Path $PSScriptRoot 'bench.json'),
    [string] $Report = (Join-Path $PSScriptRoot '../../out/bench.md')
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path $ModulePath).Path
$EmulatorPath = (Resolve-Path $EmulatorPath).Path
Import-Module (Join-Path $PSScriptRoot '../EmulatorProcess.psm1') -Force
$pwsh = @([Environment]::ProcessPath)
if ([IO.Path]::GetFileNameWithoutExtension($pwsh[0]) -eq 'dotnet') { $pwsh += Join-Path $PSHOME 'pwsh.dll' }

function Invoke-Measured([string] $Kind, [string] $Mode, $Emulator, [string] $UsersFile, [switch] $Force) {
    $env:PROFILESYNC_BENCH_GRAPH = $Emulator.Graph; $env:PROFILESYNC_BENCH_MYSITE = $Emulator.MySite; $env:PROFILESYNC_BENCH_ADMIN = $Emulator.Admin
    $env:PROFILESYNC_BENCH_GRAPHTOKEN = $Emulator.GraphToken; $env:PROFILESYNC_BENCH_SPOTOKEN = $Emulator.SharePointToken
    Clear-EmulatorLog $Emulator
    $line = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -OutputFormat Text -File (Join-Path $PSScriptRoot 'RunOne.ps1') `
        -Kind $Kind -Mode $Mode -ModulePath $ModulePath -UsersFile $UsersFile -Force:$Force | Select-Object -Last 1
    foreach ($name in 'GRAPH', 'MYSITE', 'ADMIN', 'GRAPHTOKEN', 'SPOTOKEN') { Remove-Item "env:PROFILESYNC_BENCH_$name" }
    if ($line -notmatch '^\{') { throw "The $Kind $Mode run failed: $line" }
    $run = $line | ConvertFrom-Json
    $stats = Invoke-RestMethod ([uri]::new($Emulator.Control, 'stats'))
    $sharePointOk = @((Get-EmulatorLog $Emulator) | Where-Object { $_.Service -in 'mysite', 'admin' -and $_.Status -notin 429, 503 }).Count
    $budget = [double]$stats.SharePointRequestsPerMinute
    # The emulator's budget is a sliding one-minute window: the k-th request cannot start before 60 s * floor((k-1)/budget).
    $budgetBound = if ($budget -gt 0 -and $sharePointOk -gt 0) { [double](60 * [math]::Floor(($sharePointOk - 1) / $budget)) } else { [double]0 }
    $latencyBound = [double](17 * $stats.LatencyMs / 1000)
    [pscustomobject]@{
        Seconds = [double]$run.Seconds; PeakMB = [double]$run.PeakMB; Outcomes = $run.Outcomes
        Graph = [int]$stats.GraphRequests; SharePoint = [int]$stats.SharePointRequests; Bytes = [long]$stats.Bytes
        Throttled = [int]$stats.Throttled; LowerBound = [math]::Max([double]$budgetBound, [double]$latencyBound)
    }
}

# The nightly run: a tenant ProfileSync synced before (prepared with latency and limits off by
# Sync-ProfilePhoto -All -Force, so every photo in SharePoint is one ProfileSync wrote), then a day's
# changes: every 50th user gets a new Exchange photo (2%; users who had none become
# MissingInSharePoint). The baseline and ProfileSync each run on an identically prepared tenant, with
# the documented limits back on and a fresh budget minute, as at night.
function New-NightlyTenant {
    $emu = New-BenchTenant
    $limits = { param($latency, $budget) Invoke-RestMethod -Method Post ([uri]::new($emu.Control, "limits?latencyMs=$latency&sharePointRequestsPerMinute=$budget")) | Out-Null }
    $stats = Invoke-RestMethod ([uri]::new($emu.Control, 'stats'))
    & $limits 0 0
    $prepared = Invoke-Measured ProfileSync Sync $emu $usersFile -Force
    Write-Host ("  prepared in {0:0.0} s: {1}" -f $prepared.Seconds, (Format-Outcomes $prepared))
    $i = 0
    foreach ($upn in Get-Content $usersFile) {
        if (($i++ % 50) -eq 7) { Invoke-RestMethod -Method Post ([uri]::new($emu.Control, "users/$([uri]::EscapeDataString($upn))/photo?seed=$(90000 + $i)")) | Out-Null }
    }
    Invoke-RestMethod -Method Post ([uri]::new($emu.Control, 'warm')) | Out-Null
    & $limits $stats.LatencyMs $stats.SharePointRequestsPerMinute
    $emu
}

function New-BenchTenant {
    $emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $Scenario
    Get-EmulatorUserList $emu | Set-Content $usersFile
    Invoke-RestMethod -Method Post ([uri]::new($emu.Control, 'warm')) | Out-Null
    $emu
}

function Format-Outcomes($Run) { ($Run.Outcomes.PSObject.Properties | ForEach-Object { "$($_.Name) $($_.Value)" }) -join ', ' }

# Tenant: Fresh (a new emulator), Nightly (a new, prepared one), Drained (the same, after the sliding
# minute has emptied: 61 s), FreshMinute (the same, with a fresh budget minute: the same as waiting).
$steps = @(
    @{ Name = 'First run, baseline: check'; Kind = 'Baseline'; Mode = 'Check'; Tenant = 'Fresh'; Baseline = 'First run, baseline: check' }
    @{ Name = 'First run, Get-PhotoSyncState -All'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'Fresh'; Baseline = 'First run, baseline: check' }
    @{ Name = 'First run, baseline: sync'; Kind = 'Baseline'; Mode = 'Sync'; Tenant = 'Fresh'; Baseline = 'First run, baseline: sync' }
    @{ Name = 'First run, Sync-ProfilePhoto -All'; Kind = 'ProfileSync'; Mode = 'Sync'; Tenant = 'Fresh'; Baseline = 'First run, baseline: sync' }
    @{ Name = 'Get-PhotoSyncState -All right after that sync'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'Drained'; Baseline = 'First run, baseline: check' }
    @{ Name = 'Nightly, baseline: check'; Kind = 'Baseline'; Mode = 'Check'; Tenant = 'Nightly'; Baseline = 'Nightly, baseline: check' }
    @{ Name = 'Nightly, Get-PhotoSyncState -All'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'FreshMinute'; Baseline = 'Nightly, baseline: check' }
    @{ Name = 'Nightly, baseline: sync'; Kind = 'Baseline'; Mode = 'Sync'; Tenant = 'FreshMinute'; Baseline = 'Nightly, baseline: sync' }
    @{ Name = 'Nightly, Sync-ProfilePhoto -All'; Kind = 'ProfileSync'; Mode = 'Sync'; Tenant = 'Nightly'; Baseline = 'Nightly, baseline: sync' }
)
$results = [ordered]@{}
$baselineOf = @{}
$emulator = $null
$users = 0
$usersFile = Join-Path ([IO.Path]::GetTempPath()) "profilesync-bench-users-$PID.txt"
foreach ($step in $steps) {
    switch ($step.Tenant) {
        'Drained' { Start-Sleep -Seconds 61 }
        'FreshMinute' { Invoke-RestMethod -Method Post ([uri]::new($emulator.Control, 'limits')) | Out-Null }
        default {
            if ($emulator) { Stop-TenantEmulator $emulator }
            if ($step.Tenant -eq 'Nightly') { Write-Host 'Preparing a nightly tenant ...'; $emulator = New-NightlyTenant } else { $emulator = New-BenchTenant }
            $users = $emulator.Users
        }
    }
    Write-Host "Running: $($step.Name) ..."
    $baselineOf[$step.Name] = $step.Baseline
    $results[$step.Name] = Invoke-Measured $step.Kind $step.Mode $emulator $usersFile
    Write-Host ("  {0:0.0} s, outcomes: {1}" -f $results[$step.Name].Seconds, (Format-Outcomes $results[$step.Name]))
}
Stop-TenantEmulator $emulator
Remove-Item $usersFile -ErrorAction SilentlyContinue

$rows = foreach ($name in $results.Keys) {
    $r = $results[$name]
    $baseline = $results[$baselineOf[$name]]
    [pscustomobject]@{
        Run                  = $name
        'Wall s'             = '{0:0.0}' -f $r.Seconds
        'vs baseline'        = if ($name -like '*aseline*') { '1.0x' } else { '{0:0.0}x faster' -f ($baseline.Seconds / $r.Seconds) }
        'Graph req/user'     = '{0:0.000}' -f ($r.Graph / $users)
        'SharePoint req/user' = '{0:0.000}' -f ($r.SharePoint / $users)
        'KB/user'            = '{0:0.0}' -f ($r.Bytes / 1KB / $users)
        '429/503'            = $r.Throttled
        'Peak MB'            = $r.PeakMB
        Efficiency           = '{0:0.00}' -f ($r.LowerBound / $r.Seconds)
    }
}
$rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
$header = "| " + (($rows[0].PSObject.Properties.Name) -join ' | ') + " |"
$separator = "|" + (($rows[0].PSObject.Properties | ForEach-Object { '---' }) -join '|') + "|"
$lines = @($header, $separator)
$lines += $rows | ForEach-Object { "| " + (($_.PSObject.Properties.Value) -join ' | ') + " |" }
New-Item -ItemType Directory -Force (Split-Path $Report) | Out-Null
@("Benchmark: $users users, $(Get-Date -Format 'yyyy-MM-dd'), $([Environment]::ProcessorCount) cores, $([Runtime.InteropServices.RuntimeInformation]::OSDescription)", '') + $lines | Set-Content $Report
Write-Host "Written: $Report"
