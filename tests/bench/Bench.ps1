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
    # Which set: WhatBinds (issue 13, the default: first and nightly runs under the three ceilings, app-only
    # and delegated), Ceilings (issue 12: first runs of 1,000 users with the ceilings on), Classic (0.x: the
    # one-number budget).
    [ValidateSet('WhatBinds', 'Ceilings', 'Classic')] [string] $Set = 'WhatBinds',
    # Kept for build.ps1: the same as -Set Ceilings.
    [switch] $Ceilings
)
$ErrorActionPreference = 'Stop'
if ($Ceilings) { $Set = 'Ceilings' }
$Ceilings = $Set -ne 'Classic'
if (-not $PSBoundParameters.ContainsKey('Scenario')) {
    $Scenario = Join-Path $PSScriptRoot $(switch ($Set) { 'Ceilings' { 'bench-ceilings.json' } 'WhatBinds' { 'bench-first.json' } default { 'bench.json' } })
}
if (-not $Report) { $Report = Join-Path $PSScriptRoot "../../out/bench-$($Set.ToLowerInvariant()).md" }
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

function Invoke-Measured([string] $Kind, [string] $Mode, $Emulator, [string] $UsersFile, [switch] $Force, [string] $Pacing = 'Adaptive', $Limits = $null) {
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
        $scenarioData = if ($Limits) { $Limits } else { Get-Content $Scenario -Raw | ConvertFrom-Json }
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
        if ($scenarioData.userRequestsPerWindow -gt 0 -and $Emulator.GraphToken -match '^[\w-]+\.[\w-]+\.') {
            # Delegated tokens only (JWT-shaped): every SharePoint request is the signed-in user's.
            $ceilingBounds['user'] = $sharePointOk / $scenarioData.userRequestsPerWindow * $scenarioData.userWindowSeconds
        }
    }
    [pscustomobject]@{
        Users = @(Get-Content $UsersFile).Count; GraphUnits = $graphUnits; SharePointOk = $sharePointOk; PeopleManagerOk = $peopleManagerOk
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
    Set-NightlyChanges $emu
    & $limits $stats.LatencyMs $stats.SharePointRequestsPerMinute
    $emu
}

# A day's changes: every 50th user gets a new Exchange photo (2 %); the emulator draws them now, not in a measured run.
function Set-NightlyChanges($Emu) {
    $i = 0
    foreach ($upn in Get-Content $usersFile) {
        if (($i++ % 50) -eq 7) { Invoke-RestMethod -Method Post ([uri]::new($Emu.Control, "users/$([uri]::EscapeDataString($upn))/photo?seed=$(90000 + $i)")) | Out-Null }
    }
    Invoke-RestMethod -Method Post ([uri]::new($Emu.Control, 'warm')) | Out-Null
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
if ($Set -eq 'Ceilings') {
    $steps = @(
        @{ Name = 'Ceilings on, first run, baseline: check'; Kind = 'Baseline'; Mode = 'Check'; Tenant = 'Fresh'; Baseline = 'Ceilings on, first run, baseline: check' }
        @{ Name = 'Ceilings on, first run, Get-PhotoSyncState -All'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'Fresh'; Pacing = 'Ceilings'; Baseline = 'Ceilings on, first run, baseline: check' }
        @{ Name = 'Ceilings on, first run, baseline: sync'; Kind = 'Baseline'; Mode = 'Sync'; Tenant = 'Fresh'; Baseline = 'Ceilings on, first run, baseline: sync' }
        @{ Name = 'Ceilings on, first run, Sync-ProfilePhoto -All'; Kind = 'ProfileSync'; Mode = 'Sync'; Tenant = 'Fresh'; Pacing = 'Ceilings'; Baseline = 'Ceilings on, first run, baseline: sync' }
    )
}
# What binds (issue 13): a first check of 2,000 users (60 % SharePoint's own copies) under the ceilings,
# app-only and delegated, and with the ceilings off; a nightly check and sync of 20,000 users synced the
# night before (the baseline on a 2,000-user sample of that tenant: at its pace 20,000 would take hours).
$nightlyScenario = Join-Path $PSScriptRoot 'bench-nightly.json'
if ($Set -eq 'WhatBinds') {
    $steps = @(
        @{ Name = 'First check, baseline (app-only)'; Kind = 'Baseline'; Mode = 'Check'; Tenant = 'First'; Baseline = 'First check, baseline (app-only)' }
        @{ Name = 'First check, Get-PhotoSyncState -All (app-only)'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'First'; Pacing = 'Ceilings'; Baseline = 'First check, baseline (app-only)'; Free = 'First check, ceilings off, Get-PhotoSyncState -All' }
        @{ Name = 'First check, baseline (delegated)'; Kind = 'Baseline'; Mode = 'Check'; Tenant = 'FirstDelegated'; Baseline = 'First check, baseline (delegated)' }
        @{ Name = 'First check, Get-PhotoSyncState -All (delegated)'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'FirstDelegated'; Pacing = 'Ceilings'; Baseline = 'First check, baseline (delegated)'; Free = 'First check, ceilings off, Get-PhotoSyncState -All' }
        @{ Name = 'First check, ceilings off, baseline'; Kind = 'Baseline'; Mode = 'Check'; Tenant = 'FirstFree'; Baseline = 'First check, ceilings off, baseline' }
        @{ Name = 'First check, ceilings off, Get-PhotoSyncState -All'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'FirstFree'; Baseline = 'First check, ceilings off, baseline' }
        @{ Name = 'Nightly check, baseline (2,000-user sample, app-only)'; Kind = 'Baseline'; Mode = 'Check'; Tenant = 'Nightly20k'; Sample = 2000; Baseline = 'Nightly check, baseline (2,000-user sample, app-only)' }
        @{ Name = 'Nightly check, Get-PhotoSyncState -All (app-only)'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'Same'; Pacing = 'Ceilings'; Baseline = 'Nightly check, baseline (2,000-user sample, app-only)'; Free = 'Nightly check, ceilings off, Get-PhotoSyncState -All' }
        @{ Name = 'Nightly check, ceilings off, Get-PhotoSyncState -All'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'SameFree'; Baseline = 'Nightly check, baseline (2,000-user sample, app-only)' }
        @{ Name = 'Nightly sync, Sync-ProfilePhoto -All (app-only)'; Kind = 'ProfileSync'; Mode = 'Sync'; Tenant = 'SameCeilings'; Pacing = 'Ceilings'; Baseline = 'Nightly check, baseline (2,000-user sample, app-only)' }
        @{ Name = 'Nightly check, Get-PhotoSyncState -All (delegated)'; Kind = 'ProfileSync'; Mode = 'Check'; Tenant = 'Nightly20kDelegated'; Pacing = 'Ceilings'; Baseline = 'Nightly check, baseline (2,000-user sample, app-only)'; Free = 'Nightly check, ceilings off, Get-PhotoSyncState -All' }
    )
}

# A scenario file as data (the benchmark's JSON files carry comments, which ConvertFrom-Json skips).
function Read-Scenario([string] $Path) { Get-Content $Path -Raw | ConvertFrom-Json }

# The same scenario with delegated tokens: a copy in the temp folder.
function Get-DelegatedScenario([string] $Path) {
    $data = Read-Scenario $Path
    $data | Add-Member -Force tokenKind 'delegated'
    $copy = Join-Path ([IO.Path]::GetTempPath()) ("profilesync-bench-delegated-$PID-" + [IO.Path]::GetFileName($Path))
    $data | ConvertTo-Json -Depth 5 | Set-Content $copy
    $copy
}

# Switches the emulator's latency and ceilings (0 = off) and starts fresh windows.
function Set-Limits($Emu, $Data, [int] $Latency) {
    $q = 'latencyMs={0}&appUnits={1}&peopleManagerCalls={2}&userRequests={3}&appWindowSeconds={4}&peopleManagerWindowSeconds={5}&userWindowSeconds={6}' -f `
        $Latency, $Data.appResourceUnitsPerWindow, $Data.peopleManagerCallsPerWindow, $Data.userRequestsPerWindow, $Data.appWindowSeconds, $Data.peopleManagerWindowSeconds, $Data.userWindowSeconds
    Invoke-RestMethod -Method Post ([uri]::new($Emu.Control, "limits?$q")) | Out-Null
}

# The nightly tenant of the WhatBinds set: synced by Sync-ProfilePhoto -All (limits off, no -Force:
# SharePoint's own copies stay and are remembered), the search index caught up overnight, then every
# 50th user got a new Exchange photo (2 %); latency and ceilings back on.
function New-PreparedNightly([string] $ScenarioPath) {
    $emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $ScenarioPath
    Get-EmulatorUserList $emu | Set-Content $usersFile
    Invoke-RestMethod -Method Post ([uri]::new($emu.Control, 'warm')) | Out-Null
    $data = Read-Scenario $ScenarioPath
    Set-Limits $emu $ceilingsOff 0
    $prepared = Invoke-Measured ProfileSync Sync $emu $usersFile
    Write-Host ("  prepared in {0:0.0} s: {1}" -f $prepared.Seconds, (Format-Outcomes $prepared))
    Invoke-RestMethod -Method Post ([uri]::new($emu.Control, 'search/refresh')) | Out-Null
    Set-NightlyChanges $emu
    Set-Limits $emu $data $data.latencyMs
    $emu
}

# Every ceiling off (0), the windows as they are.
$ceilingsOff = [pscustomobject]@{ appResourceUnitsPerWindow = 0; peopleManagerCallsPerWindow = 0; userRequestsPerWindow = 0; appWindowSeconds = 60; peopleManagerWindowSeconds = 300; userWindowSeconds = 300 }
$results = [ordered]@{}
$baselineOf = @{}
$freeOf = @{}
$emulator = $null
$limits = $null
$usersFile = Join-Path ([IO.Path]::GetTempPath()) "profilesync-bench-users-$PID.txt"
$sampleFile = Join-Path ([IO.Path]::GetTempPath()) "profilesync-bench-sample-$PID.txt"
foreach ($step in $steps) {
    switch ($step.Tenant) {
        'Drained' { Start-Sleep -Seconds 61 }
        'FreshMinute' { Invoke-RestMethod -Method Post ([uri]::new($emulator.Control, 'limits')) | Out-Null }
        'Same' { Invoke-RestMethod -Method Post ([uri]::new($emulator.Control, 'limits')) | Out-Null }
        'SameFree' { $limits = $ceilingsOff; Set-Limits $emulator $limits $latency }
        'SameCeilings' { $limits = $ceilingsOf; Set-Limits $emulator $limits $latency }
        default {
            if ($emulator) { Stop-TenantEmulator $emulator }
            $limits = Read-Scenario $Scenario
            switch ($step.Tenant) {
                'Nightly' { Write-Host 'Preparing a nightly tenant ...'; $emulator = New-NightlyTenant }
                'Nightly20k' { Write-Host 'Preparing the 20,000-user nightly tenant ...'; $emulator = New-PreparedNightly $nightlyScenario; $limits = Read-Scenario $nightlyScenario }
                'Nightly20kDelegated' { Write-Host 'Preparing the 20,000-user nightly tenant (delegated) ...'; $emulator = New-PreparedNightly (Get-DelegatedScenario $nightlyScenario); $limits = Read-Scenario $nightlyScenario }
                'FirstDelegated' { $emulator = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario (Get-DelegatedScenario $Scenario); Get-EmulatorUserList $emulator | Set-Content $usersFile; Invoke-RestMethod -Method Post ([uri]::new($emulator.Control, 'warm')) | Out-Null }
                'FirstFree' { $emulator = New-BenchTenant; $limits = $ceilingsOff; Set-Limits $emulator $limits (Read-Scenario $Scenario).latencyMs }
                default { $emulator = New-BenchTenant }
            }
            # What 'SameCeilings' switches back on: this tenant's ceilings and latency.
            if ($step.Tenant -ne 'FirstFree') { $ceilingsOf = $limits; $latency = $limits.latencyMs }
        }
    }
    $file = $usersFile
    if ($step['Sample']) { Get-Content $usersFile -TotalCount $step['Sample'] | Set-Content $sampleFile; $file = $sampleFile }
    Write-Host "Running: $($step.Name) ..."
    $baselineOf[$step.Name] = $step.Baseline
    $freeOf[$step.Name] = $step['Free']
    $results[$step.Name] = Invoke-Measured $step.Kind $step.Mode $emulator $file -Pacing $(if ($step['Pacing']) { $step['Pacing'] } else { 'Adaptive' }) -Limits $limits
    Write-Host ("  {0:0.0} s, outcomes: {1}" -f $results[$step.Name].Seconds, (Format-Outcomes $results[$step.Name]))
}
Stop-TenantEmulator $emulator
Remove-Item $usersFile, $sampleFile -ErrorAction SilentlyContinue

# The columns every run has; each set adds its own after them. Per-user figures use the run's own users
# (a sampled baseline counts its sample); "vs baseline" compares time per user.
function New-Row([string] $Name, $Run, $Baseline) {
    $perUser = { param($r) $r.Seconds / [math]::Max(1, $r.Users) }
    [ordered]@{
        Run                   = $Name
        'Wall s'              = '{0:0.0}' -f $Run.Seconds
        'vs baseline'         = if ($Name -like '*aseline*') { '1.0x' } else { Format-Ratio ((& $perUser $Baseline) / (& $perUser $Run)) }
        'Graph req/user'      = '{0:0.000}' -f ($Run.Graph / $Run.Users)
        'SharePoint req/user' = '{0:0.000}' -f ($Run.SharePoint / $Run.Users)
    }
}
# Bound: the least time the ceilings allow is longer than the same run takes with the ceilings off
# (its "Free" run, same tenant, same latency); "-" where no such run was measured.
$rows = foreach ($name in $results.Keys) {
    $r = $results[$name]
    $row = New-Row $name $r $results[$baselineOf[$name]]
    if ($Ceilings) {
        $binding = $r.CeilingBounds.GetEnumerator() | Sort-Object Value -Descending | Select-Object -First 1
        $row['PeopleManager calls/user'] = '{0:0.000}' -f ($r.PeopleManagerCalls / $r.Users)
        $row['429 app / PeopleManager / user'] = '{0} / {1} / {2}' -f $r.AppThrottled, $r.PeopleManagerThrottled, $r.UserThrottled
        $row['Least time s (app / PeopleManager / user)'] = '{0:0.0} / {1:0.0} / {2}' -f $r.CeilingBounds['app'], $r.CeilingBounds['PeopleManager'], $(if ($r.CeilingBounds.Contains('user')) { '{0:0.0}' -f $r.CeilingBounds['user'] } else { '-' })
        $free = if ($freeOf[$name]) { $results[$freeOf[$name]] }
        $row['Efficiency'] = if (-not $binding) { 'not bound' } elseif (-not $free -and $Set -eq 'WhatBinds') { '-' } elseif (-not $free -or $binding.Value -gt $free.Seconds) { '{0:0.00} ({1})' -f ($binding.Value / $r.Seconds), $binding.Key } else { 'not bound' }
        if ($Set -eq 'WhatBinds') { $row['Peak MB'] = $r.PeakMB; $row['Outcomes'] = Format-Outcomes $r }
    }
    else {
        $row['KB/user'] = '{0:0.0}' -f ($r.Bytes / 1KB / $r.Users)
        $row['429/503'] = $r.Throttled
        $row['Peak MB'] = $r.PeakMB
        $row['Efficiency'] = '{0:0.00}' -f ($r.LowerBound / $r.Seconds)
    }
    [pscustomobject]$row
}
$rows | Format-Table -AutoSize | Out-String -Width 300 | Write-Host
$header = "| " + (($rows[0].PSObject.Properties.Name) -join ' | ') + " |"
$separator = "|" + (($rows[0].PSObject.Properties | ForEach-Object { '---' }) -join '|') + "|"
$lines = @($header, $separator)
$lines += $rows | ForEach-Object { "| " + (($_.PSObject.Properties.Value) -join ' | ') + " |" }

# The nightly check at 100,000 users, by arithmetic from the measured requests per user, under the
# ceilings of a 50k+ tenant: 6,250 RU a minute per app, 15,000 PeopleManager calls per 5 minutes,
# 3,000 requests per 5 minutes per signed-in user (delegated only); the largest bound binds.
foreach ($name in @($results.Keys | Where-Object { $_ -like 'Nightly check, Get-PhotoSyncState*' })) {
    $r = $results[$name]
    $ruPerUser = (2 * $r.SharePointOk + $r.GraphUnits) / $r.Users
    $pmPerUser = $r.PeopleManagerOk / $r.Users
    $spPerUser = $r.SharePointOk / $r.Users
    $app = $ruPerUser * 100000 / 6250 * 60
    $pm = $pmPerUser * 100000 / 15000 * 300
    $user = if ($r.CeilingBounds.Contains('user')) { $spPerUser * 100000 / 3000 * 300 } else { 0 }
    $lines += ''
    $lines += ("{0} at 100,000 users (50k+ band): max(app {1:0.000} RU/user x 100,000 / 6,250 RU x 60 s = {2:0} s; PeopleManager {3:0.0000}/user x 100,000 / 15,000 x 300 s = {4:0} s{5}) = {6:0} s; at ProfileSync's planned share (95 % of the app ceiling, 45 % of PeopleManager, 90 % of the user's) {7:0} s" -f `
        $name, $ruPerUser, $app, $pmPerUser, $pm, $(if ($user) { "; user {0:0.0000} req/user x 100,000 / 3,000 x 300 s = {1:0} s" -f $spPerUser, $user } else { '' }),
        [math]::Max([math]::Max($app, $pm), $user), [math]::Max([math]::Max($app / 0.95, $pm / 0.45), $user / 0.9))
}
$lines | Select-Object -Skip ($rows.Count + 2) | Write-Host
New-Item -ItemType Directory -Force (Split-Path $Report) | Out-Null
$title = switch ($Set) {
    'Ceilings' { "Benchmark with the ceilings on (1k-5k band at real windows: 2,500 RU/min per app, REST 2 RU, Graph counted; 6,000 PeopleManager calls/5 min; efficiency against the FULL ceilings)" }
    'WhatBinds' { "What binds (first: 2,000 users, 1k-5k band; nightly: 20,000 users, 15k-50k band; real windows, REST 2 RU, Graph counted; efficiency against the FULL ceilings)" }
    default { 'Benchmark' }
}
@("${title}: $(Get-Date -Format 'yyyy-MM-dd'), $([Environment]::ProcessorCount) cores, $([Runtime.InteropServices.RuntimeInformation]::OSDescription)", '') + $lines | Set-Content $Report
Write-Host "Written: $Report"
