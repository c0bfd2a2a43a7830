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

            $use = @'
$ErrorActionPreference = 'Stop'
Import-Module ProfileSync
$module = Get-Module ProfileSync
[pscustomobject]@{
    Path = $module.ModuleBase
    Version = "$($module.Version)"
    Commands = @(Get-Command -Module ProfileSync | Sort-Object Name | ForEach-Object Name)
    Synopsis = (Get-Help Sync-ProfilePhoto).Synopsis
} | ConvertTo-Json -Compress
'@
            $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $use 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
            $result = $output | Select-Object -Last 1 | ConvertFrom-Json
        }
        finally {
            Pop-Location
            foreach ($name in $saved.Keys) { Set-Item "env:$name" $saved[$name] -ErrorAction SilentlyContinue; if ($null -eq $saved[$name]) { Remove-Item "env:$name" -ErrorAction SilentlyContinue } }
        }
        $result.Path | Should -BeLike "$cleanHome*"
        Test-Path (Join-Path $RepoRoot 'PSResourceGet') | Should -BeFalse -Because 'nothing is written outside the clean home'
        $result.Version | Should -Be $ModuleVersion
        $result.Commands | Should -Be @((Import-PowerShellDataFile (Join-Path $RepoRoot 'ProfileSync.psd1')).CmdletsToExport | Sort-Object)
        $result.Synopsis | Should -Match 'SharePoint Online show'
    }
}
