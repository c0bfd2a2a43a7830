#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests and demonstrates ProfileSync.
.DESCRIPTION
    Tasks:
      Build  - publish the module into out/ProfileSync and the tenant emulator into out/emulator.
      Test   - Build, then every test: xUnit (core + emulator) and Pester (the built module against the
               emulator). Ends with the line 'N passed, N failed'.
      Demo   - Build, start the emulator with about 50 users, check, dry-run, sync, check again.
      Bench  - Build, then the benchmark of what binds: first checks of 2,000 users and nightly runs of
               20,000 under SharePoint's three ceilings at their real windows, app-only and delegated,
               each against the baseline (about 40 minutes). -BenchSet Ceilings: the issue-12 runs
               (1,000 users, first check and sync); -BenchSet Classic: the 0.x runs (one-number budget).
      Images - Demo, then the README's images (docs/images) drawn from what the demo showed (headless Chromium).
      Clean  - remove build outputs.
    Run with `dotnet pwsh ./build.ps1 <Task>` after `dotnet tool restore`.
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Soak', 'Package', 'Images', 'Clean')]
    [string] $Task = 'Build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # Bench only: which set of runs (tests/bench/Bench.ps1 -Set).
    [ValidateSet('WhatBinds', 'Ceilings', 'Classic')] [string] $BenchSet = 'WhatBinds'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'ProfileSync'
$emulatorOut = Join-Path $out 'emulator'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Invoke-Native {
    param([string] $What, [scriptblock] $Command)
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)." }
}

# SkiaSharp's native library for the platforms PowerShell 7.4+ runs on (win-x64, win-arm64, linux-x64, linux-arm64,
# linux-musl-x64, osx-x64 and osx-arm64: 'osx' is one universal file), where SkiaNativeLibrary looks for it.
$SkiaRuntimes = 'win-x64', 'win-arm64', 'linux-x64', 'linux-arm64', 'linux-musl-x64', 'osx'

# What the module never loads leaves the package: Skia for other platforms (about 140 MB), the browser (WebAssembly)
# runtime, and private copies of shared-framework assemblies, which the load context always takes from the runtime.
function Remove-UnloadedDependency([string] $Runtimes) {
    foreach ($folder in Get-ChildItem $Runtimes -Directory) {
        $native = Join-Path $folder.FullName 'native'
        if ($folder.Name -eq 'browser') { Remove-Item $folder.FullName -Recurse -Force }
        elseif ((Test-Path $native) -and $folder.Name -notin $SkiaRuntimes) {
            Remove-Item $native -Recurse -Force
            if (-not (Get-ChildItem $folder.FullName -Force)) { Remove-Item $folder.FullName -Force }
        }
    }
    # Every one of these has been in the shared framework since .NET 5, so PowerShell 7.4 (.NET 8) has its own.
    foreach ($name in 'System.Diagnostics.DiagnosticSource', 'System.Formats.Asn1', 'System.IO.Pipelines', 'System.Text.Encodings.Web', 'System.Text.Json') {
        Remove-Item (Join-Path (Split-Path $Runtimes) "$name.dll") -ErrorAction SilentlyContinue
    }
}

function Invoke-Build {
    Write-Host "Building the module into $moduleOut"
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    Invoke-Native 'Publishing the module' {
        dotnet publish (Join-Path $root 'src/ProfileSync.PowerShell/ProfileSync.PowerShell.csproj') -c $Configuration -o $moduleOut --nologo -v quiet
    }
    # Build-time leftovers that are no part of a module.
    Get-ChildItem $moduleOut -Include '*.pdb', '*.deps.json' -Recurse | Remove-Item -Force
    # Only the cmdlet assembly and its loader stay at the top, in PowerShell's default load context; the core and every
    # third-party assembly (and SkiaSharp's native runtimes) go where only the module's private context looks.
    $dependencies = New-Item -ItemType Directory (Join-Path $moduleOut 'dependencies')
    Get-ChildItem $moduleOut -Exclude 'ProfileSync.dll', 'ProfileSync.Loader.dll', 'dependencies' | Move-Item -Destination $dependencies
    Remove-UnloadedDependency (Join-Path $dependencies 'runtimes')
    Copy-Item (Join-Path $root 'ProfileSync.psd1') $moduleOut
    Copy-Item (Join-Path $root 'module/*') $moduleOut -Recurse
    Write-Host 'Building the help (MAML and about_ProfileSync) from docs/help'
    # Its own process: the generator imports the built module to read the cmdlets' metadata.
    $pwsh = @([Environment]::ProcessPath)
    if ([IO.Path]::GetFileNameWithoutExtension($pwsh[0]) -eq 'dotnet') { $pwsh += Join-Path $PSHOME 'pwsh.dll' }
    Invoke-Native 'Building the help' {
        & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File (Join-Path $root 'tools/New-ExternalHelp.ps1') `
            -ModulePath (Join-Path $moduleOut 'ProfileSync.psd1') -HelpSource (Join-Path $root 'docs/help') -OutputFolder (Join-Path $moduleOut 'en-US')
    }
    Write-Host "Building the tenant emulator into $emulatorOut"
    Invoke-Native 'Building the emulator' {
        dotnet build (Join-Path $root 'tests/ProfileSync.TenantEmulator/ProfileSync.TenantEmulator.csproj') -c $Configuration -o $emulatorOut --nologo -v quiet
    }
}

function Get-PesterModulePath {
    Invoke-Native 'Restoring Pester' { dotnet restore (Join-Path $root 'tests/PesterRestore/PesterRestore.csproj') --nologo -v quiet }
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $path = Join-Path $packages 'pester/6.2.0/tools/Pester.psd1'
    if (-not (Test-Path $path)) { throw "Pester 6.2.0 was restored but not found at $path." }
    $path
}

# The report test drives Debian's Chromium through its ChromeDriver. Installed here, by the project, when missing.
function Install-TestBrowser {
    if ((Test-Path '/usr/bin/chromium') -and (Test-Path '/usr/bin/chromedriver')) { return }
    if (-not $IsLinux -or -not (Get-Command apt-get -ErrorAction SilentlyContinue)) {
        Write-Warning 'Chromium and ChromeDriver are missing and this is no Debian-like machine: the HTML report test will fail. Install chromium and chromedriver.'
        return
    }
    $sudo = if ((& id -u) -ne '0') { 'sudo' } else { $null }
    Write-Host 'Installing Debian chromium and chromium-driver for the report test'
    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Native 'apt-get update' { if ($sudo) { & $sudo apt-get update -qq } else { apt-get update -qq } }
    Invoke-Native 'Installing chromium' { if ($sudo) { & $sudo apt-get install -y -qq chromium chromium-driver } else { apt-get install -y -qq chromium chromium-driver } }
}

function Invoke-Test {
    Invoke-Build
    Install-TestBrowser
    $results = Join-Path $out 'test-results'
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    New-Item -ItemType Directory $results | Out-Null

    Write-Host 'Running xUnit tests'
    $trx = Join-Path $results 'core.trx'
    dotnet test (Join-Path $root 'tests/ProfileSync.Core.Tests/ProfileSync.Core.Tests.csproj') -c $Configuration --nologo `
        --filter 'Category!=Soak' --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal'
    $xunitExit = $LASTEXITCODE
    $xunitPassed = 0; $xunitFailed = 0
    if (Test-Path $trx) {
        $counters = ([xml](Get-Content $trx -Raw)).TestRun.ResultSummary.Counters
        $xunitPassed = [int]$counters.passed
        $xunitFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    }
    if ($xunitExit -ne 0 -and $xunitFailed -eq 0) { $xunitFailed = 1 }  # the run itself failed (build error, crash)

    Write-Host 'Running Pester tests'
    $pester = Get-PesterModulePath
    $script = {
        param($pester, $testPath, $modulePath, $emulatorPath, $resultFile)
        $ErrorActionPreference = 'Stop'
        Import-Module $pester -Force
        $env:PROFILESYNC_MODULE = $modulePath
        $env:PROFILESYNC_EMULATOR = $emulatorPath
        $config = New-PesterConfiguration
        $config.Run.Path = $testPath
        $config.Run.PassThru = $true
        $config.Output.Verbosity = 'Detailed'
        $config.TestResult.Enabled = $true
        $config.TestResult.OutputPath = $resultFile
        $r = Invoke-Pester -Configuration $config
        "PESTER-COUNTS $($r.PassedCount) $($r.FailedCount + $r.FailedBlocksCount + $r.FailedContainersCount)"
    }
    # A fresh process: the module under test loads native code and must not share this build session.
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes(
        "& { $script } '$pester' '$(Join-Path $root 'tests/pester')' '$(Join-Path $moduleOut 'ProfileSync.psd1')' '$(Join-Path $emulatorOut 'ProfileSync.TenantEmulator.dll')' '$(Join-Path $results 'pester.xml')'"))
    # Under `dotnet pwsh` this process is dotnet itself; start the same PowerShell the same way.
    $pwsh = @([Environment]::ProcessPath)
    if ([IO.Path]::GetFileNameWithoutExtension($pwsh[0]) -eq 'dotnet') { $pwsh += Join-Path $PSHOME 'pwsh.dll' }
    $pesterPassed = 0; $pesterFailed = 1
    & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -OutputFormat Text -EncodedCommand $encoded | ForEach-Object {
        if ($_ -match '^PESTER-COUNTS (\d+) (\d+)$') { $pesterPassed = [int]$Matches[1]; $pesterFailed = [int]$Matches[2] }
        else { $_ }
    }

    Write-Host ''
    Write-Host "xUnit: $xunitPassed passed, $xunitFailed failed; Pester: $pesterPassed passed, $pesterFailed failed"
    $passed = $xunitPassed + $pesterPassed
    $failed = $xunitFailed + $pesterFailed
    Write-Output "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Soak {
    param([int] $Users = 1000, [string] $Seeds = '1,2,3,4,5')
    Invoke-Build
    New-Item -ItemType Directory -Force (Join-Path $out 'soak') | Out-Null
    $report = Join-Path $out 'soak/fault-soak.txt'
    $env:PROFILESYNC_SOAK_USERS = $Users; $env:PROFILESYNC_SOAK_SEEDS = $Seeds; $env:PROFILESYNC_SOAK_REPORT = $report
    dotnet test (Join-Path $root 'tests/ProfileSync.Core.Tests/ProfileSync.Core.Tests.csproj') -c $Configuration --nologo `
        --filter 'Category=Soak' --logger 'console;verbosity=normal'
    $exit = $LASTEXITCODE
    if (Test-Path $report) { Write-Host ''; Get-Content $report | Write-Host; Write-Host "(report: $report)" }
    if ($exit -ne 0) { exit 1 }
}

# A .nupkg of the built module (PSResourceGet's Compress-PSResource: the manifest is validated on the way),
# ready for Publish-PSResource or a local folder repository.
function Invoke-Package {
    Invoke-Build
    $packageOut = Join-Path $out 'package'
    if (Test-Path $packageOut) { Remove-Item $packageOut -Recurse -Force }
    New-Item -ItemType Directory $packageOut | Out-Null
    Test-ModuleManifest (Join-Path $moduleOut 'ProfileSync.psd1') | Out-Null
    Compress-PSResource -Path $moduleOut -DestinationPath $packageOut
    $package = Get-ChildItem $packageOut -Filter '*.nupkg' | Select-Object -First 1
    if (-not $package) { throw 'Compress-PSResource wrote no package.' }
    Write-Host "Package: $($package.FullName) ($([math]::Round($package.Length / 1MB, 1)) MB)"
}

function Invoke-Demo {
    Invoke-Build
    & (Join-Path $root 'tests/demo.ps1') -ModulePath (Join-Path $moduleOut 'ProfileSync.psd1') `
        -EmulatorPath (Join-Path $emulatorOut 'ProfileSync.TenantEmulator.dll') `
        -Scenario (Join-Path $root 'tests/ProfileSync.TenantEmulator/scenarios/demo.json')
    if (-not $?) { exit 1 }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Bench' {
        Invoke-Build
        & (Join-Path $root 'tests/bench/Bench.ps1') -ModulePath (Join-Path $moduleOut 'ProfileSync.psd1') -EmulatorPath (Join-Path $emulatorOut 'ProfileSync.TenantEmulator.dll') -Set $BenchSet
    }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Images' {
        Invoke-Demo
        Install-TestBrowser
        & (Join-Path $root 'tools/New-ReadmeImages.ps1') -DemoFolder (Join-Path $out 'demo') -ImageFolder (Join-Path $root 'docs/images')
    }
    'Package' { Invoke-Package }
    'Soak' { Invoke-Soak -Users $(if ($env:PROFILESYNC_SOAK_USERS) { $env:PROFILESYNC_SOAK_USERS } else { 1000 }) -Seeds $(if ($env:PROFILESYNC_SOAK_SEEDS) { $env:PROFILESYNC_SOAK_SEEDS } else { '1,2,3,4,5' }) }
    'Clean' {
        foreach ($dir in @($out) + (Get-ChildItem $root -Directory -Recurse -Include 'bin', 'obj' | ForEach-Object FullName)) {
            if (Test-Path $dir) { Remove-Item $dir -Recurse -Force }
        }
    }
}
