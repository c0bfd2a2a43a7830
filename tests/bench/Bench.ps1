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

    -Ceilings runs the set "with the ceilings on" instead (issue 12; bench-ceilings.json): SharePoint's
    per-app ceiling for a 1k-5k tenant (2,500 RU a minute, each REST call 2 RU, Graph calls counted at
    their fixed cost) and its PeopleManager ceiling (6,000 calls per 5 minutes), at their real windows,
    over 1,000 users; /subscribedSkus reports 3,000 licences. The baseline as it is (it does not pace)
    and ProfileSync connected with -Pacing Ceilings, first-run check and first-run sync, each on a fresh
    identical tenant. There efficiency = the least time the FULL ceilings allow for the requests the run
    made (those not answered 429: per ceiling, requests x cost / (ceiling per window) x window, the
    largest one; the pacer's formula, but with the whole ceiling, not ProfileSync's planned share of
    it), divided by the measured time.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $EmulatorPath,
    [string] $Scenario = (Join-Path $PSScriptRoot 'bench.json'),
    [string] $Report,
    # The runs with SharePoint's three ceilings on (see the description) instead of the default set.
    [switch] $Ceilings
)
$ErrorActionPreference = 'Stop'
if ($Ceilings -and -not $PSBoundParameters.ContainsKey('Scenario')) { $Scenario = Join-Path $PSScriptRoot 'bench-ceilings.json' }
if (-not $Report) { $Report = Join-Path $PSScriptRoot $(if ($Ceilings) { '../../out/bench-ceilings.md' } else { '../../out/bench.md' }) }
$ModulePath = (Resolve-Path $ModulePath).Path
$EmulatorPath = (Resolve-Path $EmulatorPath).Path
Import-Module (Join-Path $PSScriptRoot '../EmulatorProcess.psm1') -Force
$pwsh = @([Environment]::ProcessPath)
if ([IO.Path]::GetFileNameWithoutExtension($pwsh[0]) -eq 'dotnet') { $pwsh += Join-Path $PSHOME 'pwsh.dll' }

# A Graph call's fixed cost in resource units, as the emulator counts it: 1 for one item or a download, 2 for a list or a write.
function Get-GraphCost($Entry) {
    if ($Entry.Method -ne 'GET') { return 2 }
    $path = ($Entry.Target -split '\?', 2)[0].TrimEnd('/')
    if ($path -match '/(users|subscribedSkus)$') { 2 } else { 1 }
}

function Invoke-Measured([string] $Kind, [string] $Mode, $Emulator, [string] $UsersFile, [switch] $Force, [string] $Pacing = 'Adaptive') {
    $env:PROFILESYNC_BENCH_GRAPH = $Emulator.Graph; $env:PROFILESYNC_BENCH_MYSITE = $Emulator.MySite; $env:PROFILESYNC_BENCH_ADMIN = $Emulator.Admin
    $env:PROFILESYNC_BENCH_GRAPHTOKEN = $Emulator.GraphToken; $env:PROFILESYNC_BENCH_SPOTOKEN = $Emulator.SharePointToken
    Clear-EmulatorLog $Emulator
    $line = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -OutputFormat Text -File (Join-Path $PSScriptRoot 'RunOne.ps1') `
        -Kind $Kind -Mode $Mode -ModulePath $ModulePath -UsersFile $UsersFile -Force:$Force -Pacing $Pacing | Select-Object -Last 1
    foreach ($name in 'GRAPH', 'MYSITE', 'ADMIN', 'GRAPHTOKEN', 'SPOTOKEN') { Remove-Item "env:PROFILESYNC_BENCH_$name" }
    if ($line -notmatch '^\{') { throw "The $Kind $Mode run failed: $line" }
    $run = $line | ConvertFrom-Json
    $stats = Invoke-RestMethod ([uri]::new($Emulator.Control, 'stats'))
    $log = @(Get-EmulatorLog $Emulator)
    $sharePointOk = @($log | Where-Object { $_.Service -in 'mysite', 'admin' -and $_.Status -notin 429, 503 }).Count
    $budget = [double]$stats.SharePointRequestsPerMinute
    # The emulator's budget is a sliding one-minute window: the k-th request cannot start before 60 s * floor((k-1)/budget).
    $budgetBound = if ($budget -gt 0 -and $sharePointOk -gt 0) { [double](60 * [math]::Floor(($sharePointOk - 1) / $budget)) } else { [double]0 }
    $latencyBound = [double](17 * $stats.LatencyMs / 1000)
    # The three ceilings (only what is on): the least time the FULL ceilings allow for the requests made (not answered 429),
    # per ceiling requests x cost / (ceiling per window) x window; the largest one binds.
    $ceilingBounds = [ordered]@{}
    if ($Ceilings) {
        $scenarioData = Get-Content $Scenario -Raw | ConvertFrom-Json
        $okGraph = @($log | Where-Object { ($_.Service -eq 'graph-batch-item' -or ($_.Service -eq 'graph' -and $_.Target -notmatch '/\$batch')) -and $_.Status -notin 429, 503 })
        $graphUnits = [double](($okGraph | ForEach-Object { Get-GraphCost $_ } | Measure-Object -Sum).Sum)
        $peopleManagerOk = @($log | Where-Object { $_.Service -in 'mysite', 'admin' -and $_.Status -notin 429, 503 -and $_.Target -match 'SP\.UserProfiles\.PeopleManager' }).Count
        if ($scenarioData.appResourceUnitsPerWindow -gt 0) {
            $units = 2 * $sharePointOk + $(if ($scenarioData.appUnitsCountGraph -ne $false) { $graphUnits } else { 0 })
            $ceilingBounds['app'] = $units / $scenarioData.appResourceUnitsPerWindow * $scenarioData.appWindowSeconds
        }
        if ($scenarioData.peopleManagerCallsPerWindow -gt 0) {
            $ceilingBounds['PeopleManager'] = $peopleManagerOk / $scenarioData.peopleManagerCallsPerWindow * $scenarioData.peopleManagerWindowSeconds
        }
    }
    [pscustomobject]@{
        PeopleManagerCalls = [int]$stats.PeopleManagerCalls
        AppThrottled = [int]$stats.AppUnitsThrottled; PeopleManagerThrottled = [int]$stats.PeopleManagerThrottled; UserThrottled = [int]$stats.UserThrottled
        CeilingBounds = $ceilingBounds
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

# A ratio of wall times as 'faster' or 'slower', never '0.7x faster'.
function Format-Ratio([double] $Ratio) { if ($Ratio -ge 1) { '{0:0.0}x faster' -f $Ratio } else { '{0:0.0}x (slower)' -f $Ratio } }

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
if ($Ceilings) {
    $steps = @(
        @{ Name = 'Ceilings on, first run, baseline: check'; Kind = 'Baseline'; Mode = 'Check'; Tenant = 'Fresh'; Baseline = 'Ceilings on, first run, baseline: check' }
        @{ Name = 'Ceilings on, first run, Get-PhotoSyncState -All'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'Fresh'; Pacing = 'Ceilings'; Baseline = 'Ceilings on, first run, baseline: check' }
        @{ Name = 'Ceilings on, first run, baseline: sync'; Kind = 'Baseline'; Mode = 'Sync'; Tenant = 'Fresh'; Baseline = 'Ceilings on, first run, baseline: sync' }
        @{ Name = 'Ceilings on, first run, Sync-ProfilePhoto -All'; Kind = 'ProfileSync'; Mode = 'Sync'; Tenant = 'Fresh'; Pacing = 'Ceilings'; Baseline = 'Ceilings on, first run, baseline: sync' }
    )
}
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
    $results[$step.Name] = Invoke-Measured $step.Kind $step.Mode $emulator $usersFile -Pacing $(if ($step['Pacing']) { $step['Pacing'] } else { 'Adaptive' })
    Write-Host ("  {0:0.0} s, outcomes: {1}" -f $results[$step.Name].Seconds, (Format-Outcomes $results[$step.Name]))
}
Stop-TenantEmulator $emulator
Remove-Item $usersFile -ErrorAction SilentlyContinue

# The columns every run has; each bench adds its own after them.
function New-Row([string] $Name, $Run, $Baseline) {
    [ordered]@{
        Run                   = $Name
        'Wall s'              = '{0:0.0}' -f $Run.Seconds
        'vs baseline'         = if ($Name -like '*aseline*') { '1.0x' } else { Format-Ratio ($Baseline.Seconds / $Run.Seconds) }
        'Graph req/user'      = '{0:0.000}' -f ($Run.Graph / $users)
        'SharePoint req/user' = '{0:0.000}' -f ($Run.SharePoint / $users)
    }
}
$rows = foreach ($name in $results.Keys) {
    $r = $results[$name]
    $row = New-Row $name $r $results[$baselineOf[$name]]
    if ($Ceilings) {
        $binding = $r.CeilingBounds.GetEnumerator() | Sort-Object Value -Descending | Select-Object -First 1
        $row['PeopleManager calls/user'] = '{0:0.000}' -f ($r.PeopleManagerCalls / $users)
        $row['429 app / PeopleManager / user'] = '{0} / {1} / {2}' -f $r.AppThrottled, $r.PeopleManagerThrottled, $r.UserThrottled
        $row['Least time s (app / PeopleManager)'] = '{0:0.0} / {1:0.0}' -f $r.CeilingBounds['app'], $r.CeilingBounds['PeopleManager']
        $row['Efficiency'] = '{0:0.00}' -f ($binding.Value / $r.Seconds)
    }
    else {
        $row['KB/user'] = '{0:0.0}' -f ($r.Bytes / 1KB / $users)
        $row['429/503'] = $r.Throttled
        $row['Peak MB'] = $r.PeakMB
        $row['Efficiency'] = '{0:0.00}' -f ($r.LowerBound / $r.Seconds)
    }
    [pscustomobject]$row
}
$rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
$header = "| " + (($rows[0].PSObject.Properties.Name) -join ' | ') + " |"
$separator = "|" + (($rows[0].PSObject.Properties | ForEach-Object { '---' }) -join '|') + "|"
$lines = @($header, $separator)
$lines += $rows | ForEach-Object { "| " + (($_.PSObject.Properties.Value) -join ' | ') + " |" }
New-Item -ItemType Directory -Force (Split-Path $Report) | Out-Null
$title = if ($Ceilings) { "Benchmark with the ceilings on (1k-5k band at real windows: 2,500 RU/min per app, REST 2 RU, Graph counted; 6,000 PeopleManager calls/5 min; efficiency against the FULL ceilings)" } else { 'Benchmark' }
@("${title}: $users users, $(Get-Date -Format 'yyyy-MM-dd'), $([Environment]::ProcessorCount) cores, $([Runtime.InteropServices.RuntimeInformation]::OSDescription)", '') + $lines | Set-Content $Report
Write-Host "Written: $Report"
