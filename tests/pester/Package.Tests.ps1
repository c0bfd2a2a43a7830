BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'The package installs with Install-PSResource from a local folder repository' {
    It 'packs, installs into a clean user folder, imports in a new process and lists every cmdlet with its help' {
        $repository = New-Item -ItemType Directory (Join-Path $TestDrive 'repository')
        # The same packing as `build.ps1 Package`, from the module the test run built.
        Compress-PSResource -Path (Split-Path $ModulePath) -DestinationPath $repository
        $package = Get-ChildItem $repository -Filter '*.nupkg'
        $package.Name | Should -Be "ProfileSync.$ModuleVersion.nupkg"
        # Azure Automation takes modules up to 100 MB (Azure subscription limits, "Automation limits"); this one stays well under.
        $package.Length | Should -BeLessThan 60MB -Because "the package is $([math]::Round($package.Length / 1MB, 1)) MB"
        $emulator = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $DemoScenario

        # A clean machine for PowerShell: its own home, so the repository list and CurrentUser modules start empty.
        $cleanHome = New-Item -ItemType Directory (Join-Path $TestDrive 'home')
        # .NET answers an empty path for a special folder that does not exist (and PSResourceGet would then
        # write its repository list into the current folder): create them first.
        $data = (New-Item -ItemType Directory -Force (Join-Path $cleanHome '.local/share')).FullName
        New-Item -ItemType Directory -Force (Join-Path $cleanHome '.config'), (Join-Path $cleanHome '.cache') | Out-Null
        $pwsh = Get-PwshCommandLine
        $saved = @{ HOME = $env:HOME; XDG_DATA_HOME = $env:XDG_DATA_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME; XDG_CACHE_HOME = $env:XDG_CACHE_HOME; PSModulePath = $env:PSModulePath }
        Push-Location $TestDrive
        try {
            $env:HOME = $cleanHome.FullName; $env:XDG_DATA_HOME = $data; $env:XDG_CONFIG_HOME = Join-Path $cleanHome '.config'; $env:XDG_CACHE_HOME = Join-Path $cleanHome '.cache'
            $env:PSModulePath = $null
            $install = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name ProfileSyncLocal -Uri '$repository' -Trusted
Install-PSResource -Name ProfileSync -Repository ProfileSyncLocal -Scope CurrentUser -TrustRepository -Quiet
(Get-InstalledPSResource ProfileSync).InstalledLocation
"@
            $installed = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $install 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($installed -join "`n")
            "$($installed | Select-Object -Last 1)" | Should -BeLike "$cleanHome*" -Because 'it went into the clean user folder'

            # Imports, then syncs one Different user (thumbnails made by Skia's native library from the package) against the emulator.
            $use = @"
`$ErrorActionPreference = 'Stop'
Import-Module ProfileSync
`$module = Get-Module ProfileSync
Connect-ProfileSync -Pacing Adaptive -TenantName '$($emulator.Tenant)' -GraphEndpoint '$($emulator.Graph)' -MySiteHostUrl '$($emulator.MySite)' -SharePointAdminUrl '$($emulator.Admin)' ``
    -GraphAccessToken (ConvertTo-SecureString '$($emulator.GraphToken)' -AsPlainText -Force) -SharePointAccessToken (ConvertTo-SecureString '$($emulator.SharePointToken)' -AsPlainText -Force)
[pscustomobject]@{
    Path = `$module.ModuleBase
    Version = "`$(`$module.Version)"
    Commands = @(Get-Command -Module ProfileSync | Sort-Object Name | ForEach-Object Name)
    Synopsis = (Get-Help Sync-ProfilePhoto).Synopsis
    Sync = "`$((Sync-ProfilePhoto user002@contoso.com -Confirm:`$false).Action)"
    After = "`$((Get-PhotoSyncState user002@contoso.com).State)"
} | ConvertTo-Json -Compress
"@
            $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $use 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
            $result = $output | Select-Object -Last 1 | ConvertFrom-Json
        }
        finally {
            Stop-TenantEmulator $emulator
            Pop-Location
            foreach ($name in $saved.Keys) { Set-Item "env:$name" $saved[$name] -ErrorAction SilentlyContinue; if ($null -eq $saved[$name]) { Remove-Item "env:$name" -ErrorAction SilentlyContinue } }
        }
        $result.Path | Should -BeLike "$cleanHome*"
        Test-Path (Join-Path $RepoRoot 'PSResourceGet') | Should -BeFalse -Because 'nothing is written outside the clean home'
        $result.Version | Should -Be $ModuleVersion
        $result.Commands | Should -Be @((Import-PowerShellDataFile (Join-Path $RepoRoot 'ProfileSync.psd1')).CmdletsToExport | Sort-Object)
        $result.Synopsis | Should -Match 'SharePoint Online show'
        $result.Sync | Should -Be 'Updated'
        $result.After | Should -Be 'InSync'
    }

    It 'ships Skia''s native library for exactly the platforms PowerShell 7.4+ runs on, where the module looks for it' {
        $dependencies = Join-Path (Split-Path $ModulePath) 'dependencies'
        $shipped = @(Get-ChildItem (Join-Path $dependencies 'runtimes') -Recurse -File | Where-Object { $_.Directory.Name -eq 'native' } |
            ForEach-Object { [IO.Path]::GetRelativePath($dependencies, $_.FullName) -replace '\\', '/' } | Sort-Object)
        # The module's own search (SkiaNativeLibrary.Candidates): the first existing file for each platform.
        $core = [System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -eq 'ProfileSync' | ForEach-Object Assemblies | Where-Object { $_.GetName().Name -eq 'ProfileSync.Core' }
        $candidates = $core.GetType('ProfileSync.Core.Imaging.SkiaNativeLibrary').GetMethods([Reflection.BindingFlags]'NonPublic, Static') |
            Where-Object { $_.Name -eq 'Candidates' -and $_.GetParameters().Count -eq 4 }
        $os = [System.Runtime.InteropServices.OSPlatform]; $arch = [System.Runtime.InteropServices.Architecture]
        $platforms = @(
            @($os::Windows, $arch::X64, $false), @($os::Windows, $arch::Arm64, $false), @($os::Linux, $arch::X64, $false), @($os::Linux, $arch::Arm64, $false),
            @($os::Linux, $arch::X64, $true), @($os::OSX, $arch::X64, $false), @($os::OSX, $arch::Arm64, $false))
        $found = foreach ($p in $platforms) {
            [object[]] $arguments = [string]$dependencies, [System.Runtime.InteropServices.OSPlatform]$p[0], [System.Runtime.InteropServices.Architecture]$p[1], [bool]$p[2]
            $first = @($candidates.Invoke($null, $arguments)) | Where-Object { Test-Path $_ } | Select-Object -First 1
            $first | Should -Not -BeNullOrEmpty -Because "$($p[0]) $($p[1]) musl=$($p[2]) needs its library"
            [IO.Path]::GetRelativePath($dependencies, $first) -replace '\\', '/'
        }
        $shipped | Should -Be @($found | Sort-Object -Unique) -Because 'nothing is shipped that no supported platform loads'
        Get-ChildItem $dependencies -Filter 'System.Text.Json.dll' | Should -BeNullOrEmpty -Because 'the shared framework''s own copy is the one loaded'
    }
}
