<#
.SYNOPSIS
    The demo: ProfileSync against the tenant emulator with about 50 users in every state.
.DESCRIPTION
    Starts the emulator, connects exactly as to a real tenant (only endpoints and tokens differ),
    then: Import-Csv users.csv | Get-PhotoSyncState | Format-Table (its text also in
    out/demo/state-table.txt, from which tools/New-ReadmeImages.ps1 draws the README image),
    Sync-ProfilePhoto -WhatIf (also written as an HTML report, out/demo/dry-run.html),
    Sync-ProfilePhoto, and Get-PhotoSyncState again. Tables are shown at 120 columns. Fails (exit 1) unless every user with a usable Exchange photo and a
    SharePoint profile ends InSync.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $EmulatorPath,
    [Parameter(Mandatory)] [string] $Scenario
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'EmulatorProcess.psm1') -Force
Import-Module $ModulePath -Force

function Show([string] $title) { Write-Host ''; Write-Host "=== $title ===" -ForegroundColor Cyan }
function Summary($items, [string] $property) {
    ($items | Group-Object $property | Sort-Object Name | ForEach-Object { "$($_.Name): $($_.Count)" }) -join ', '
}

$emulator = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $Scenario
try {
    Show "Tenant emulator: $($emulator.Users) users (Graph $($emulator.Graph), My Site $($emulator.MySite), admin $($emulator.Admin))"
    Connect-TenantEmulator $emulator -PassThru | Format-List | Out-Host
    $users = Get-EmulatorUserList $emulator
    $demoFolder = New-Item -ItemType Directory -Force (Join-Path (Split-Path (Split-Path $ModulePath)) 'demo')
    $users | ForEach-Object { [pscustomobject]@{ UserPrincipalName = $_ } } | Export-Csv (Join-Path $demoFolder 'users.csv') -NoTypeInformation

    $command = 'Import-Csv .\users.csv | Get-PhotoSyncState | Sort-Object State, UserPrincipalName | Format-Table'
    Show $command
    Push-Location $demoFolder
    try { $before = Import-Csv .\users.csv | Get-PhotoSyncState -ErrorAction SilentlyContinue | Sort-Object State, UserPrincipalName }
    finally { Pop-Location }
    $table = $before | Format-Table | Out-String -Width 120
    $table | Out-Host
    Set-Content (Join-Path $demoFolder 'state-table.txt') "PS> $command`n$table" -NoNewline
    Write-Host "States: $(Summary $before State)"

    Show 'Sync-ProfilePhoto -WhatIf'
    $dry = $users | Sync-ProfilePhoto -WhatIf -ErrorAction SilentlyContinue 6>$null
    $dry | Where-Object Action -eq 'WouldUpdate' | Sort-Object UserPrincipalName | Format-Table | Out-String -Width 120 | Out-Host
    $writes = @((Get-EmulatorLog $emulator) | Where-Object IsWrite).Count
    Write-Host "Actions: $(Summary $dry Action). Write requests sent by -WhatIf: $writes"
    if ($writes -ne 0) { throw '-WhatIf sent write requests.' }

    Show 'Sync-ProfilePhoto -WhatIf | Export-PhotoSyncReport'
    $report = $dry | Export-PhotoSyncReport -Path (Join-Path $demoFolder 'dry-run.html') -Title 'Contoso (emulated): photo dry run' -PassThru
    Write-Host "The dry run as a page with both photos side by side: $($report.FullName) ($([math]::Round($report.Length / 1KB)) KB)"

    Show 'Sync-ProfilePhoto'
    $sync = $users | Sync-ProfilePhoto -ErrorAction SilentlyContinue -ErrorVariable syncErrors | Sort-Object Action, UserPrincipalName
    $sync | Format-Table | Out-String -Width 120 | Out-Host
    Write-Host "Actions: $(Summary $sync Action)"
    foreach ($e in $syncErrors) { Write-Host "  error $($e.FullyQualifiedErrorId.Split(',')[0]) for '$($e.TargetObject)': $($e.Exception.Message)" }

    Show 'Get-PhotoSyncState (after the sync)'
    $after = $users | Get-PhotoSyncState -ErrorAction SilentlyContinue | Sort-Object State, UserPrincipalName
    $after | Format-Table | Out-String -Width 120 | Out-Host
    Write-Host "States: $(Summary $after State)"

    $left = @($after | Where-Object { $_.State -in 'Different', 'MissingInSharePoint' })
    if ($left.Count -gt 0) { throw "Still not in sync: $($left.UserPrincipalName -join ', ')" }
    $inSync = @($after | Where-Object State -eq 'InSync').Count
    $withPhoto = @($before | Where-Object State -in 'InSync', 'Different', 'MissingInSharePoint').Count
    Write-Host ''
    Write-Host "Every user with a usable Exchange photo and a SharePoint profile is InSync ($inSync of $withPhoto)." -ForegroundColor Green
    Write-Host 'Not synced, by design: NoSourcePhoto (nothing to sync), NotFound (no user or no SharePoint profile),'
    Write-Host 'Error (an Exchange photo that is not an image).'
}
finally {
    Stop-TenantEmulator $emulator
}
