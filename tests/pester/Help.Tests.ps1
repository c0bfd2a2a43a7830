BeforeDiscovery {
    $script:Commands = (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../ProfileSync.psd1')).CmdletsToExport
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Import-Module $ModulePath -Force
    $script:Common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe 'Get-Help <_> -Full' -ForEach $Commands {
    BeforeAll {
        $script:Name = $_
        $script:Help = Get-Help $Name -Full
        $script:Command = Get-Command $Name
    }

    It 'has a synopsis and a description of its own (not the generated stub)' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        $Help.Synopsis | Should -Not -Match "^\s*$Name " -Because 'a generated synopsis is only the syntax'
        ($Help.Description.Text -join ' ').Length | Should -BeGreaterThan 100
    }

    It 'has at least three examples, each with code and words' {
        @($Help.Examples.Example).Count | Should -BeGreaterOrEqual 3
        foreach ($example in $Help.Examples.Example) {
            $example.Code | Should -Not -BeNullOrEmpty
            $example.Code | Should -Match $Name -Because 'an example uses the cmdlet it documents'
        }
    }

    It 'documents every parameter with its type, pipeline input and default' {
        foreach ($parameter in $Command.Parameters.Values | Where-Object Name -notin $Common) {
            $entry = $Help.Parameters.Parameter | Where-Object Name -eq $parameter.Name
            $entry | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) is a parameter"
            ($entry.Description.Text -join ' ').Length | Should -BeGreaterThan 10 -Because "-$($parameter.Name) needs words"
            $entry.Type.Name | Should -Be $parameter.ParameterType.FullName
            $entry.PipelineInput | Should -Not -BeNullOrEmpty
            $entry.DefaultValue | Should -Not -BeNullOrEmpty
        }
    }

    It 'shows SYNTAX as Get-Command -Syntax does: every parameter set, in its order, -WhatIf/-Confirm and common parameters included' {
        $sets = @((Get-Command $Name -Syntax) -split "`r?`n" | Where-Object { $_.Trim() })
        @($Help.Syntax.SyntaxItem).Count | Should -Be $sets.Count
        $text = ($Help | Out-String -Width 4000) -split "`r?`n"
        # SYNTAX comes first in the text, before any example that starts with the cmdlet's name.
        $syntax = @($text | Where-Object { $_ -match "^\s+$Name " })
        for ($i = 0; $i -lt $sets.Count; $i++) {
            $expected = @([regex]::Matches(($sets[$i] -replace "^$Name", ''), ' \[?-(\w+)') | ForEach-Object { $_.Groups[1].Value })
            $shown = @([regex]::Matches(($syntax[$i] -replace "^\s+$Name", ''), ' \[?-(\w+)') | ForEach-Object { $_.Groups[1].Value })
            $shown | Should -Be $expected -Because "Get-Command -Syntax shows: $($sets[$i])"
            $syntax[$i].TrimEnd() | Should -Match '\[<CommonParameters>\]$'
        }
        if ($Command.Parameters.ContainsKey('WhatIf')) {
            foreach ($p in 'WhatIf', 'Confirm') { ($Help.Parameters.Parameter | Where-Object Name -eq $p).Description.Text | Should -Not -BeNullOrEmpty }
        }
    }

    It 'has an online link to its page in the repository''s docs, which exists' {
        $Command.HelpUri | Should -Be "$((Import-PowerShellDataFile (Join-Path $RepoRoot 'ProfileSync.psd1')).PrivateData.PSData.ProjectUri)/blob/main/docs/help/$Name.md"
        Test-Path (Join-Path $RepoRoot "docs/help/$Name.md") | Should -BeTrue
    }

    It 'names its output type' {
        @($Help.ReturnValues.ReturnValue).Count | Should -BeGreaterOrEqual 1
    }
}

Describe 'The module as PowerShell expects it' {
    It 'has an about_ProfileSync topic on the problem, the states, what a sync writes and the permissions' {
        $about = Get-Help about_ProfileSync | Out-String
        foreach ($words in 'SHORT DESCRIPTION', 'InSync', 'MissingInSharePoint', 'SPS-PicturePlaceholderState', 'ProfilePhoto.Read.All', 'Sites.FullControl.All') {
            $about | Should -Match ([regex]::Escape($words))
        }
    }

    It 'has an about topic on all the cmdlets and every permission, that sends nobody to a file the package lacks' {
        $about = Get-Help about_ProfileSync | Out-String
        foreach ($name in (Import-PowerShellDataFile (Join-Path $RepoRoot 'ProfileSync.psd1')).CmdletsToExport) { $about | Should -Match "\b$name\b" }
        foreach ($words in 'ProfilePhoto.ReadWrite.All', 'User.ReadWrite.All', 'Organization.Read.All') { $about | Should -Match ([regex]::Escape($words)) }
        $about | Should -Not -Match 'README|ARCHITECTURE' -Because 'an installed package has no README'
        (Get-Help Connect-ProfileSync -Full | Out-String) | Should -Match 'ProfilePhoto\.ReadWrite\.All'
        (Get-Help Connect-ProfileSync -Full | Out-String) | Should -Match 'Set-ProfilePhoto'
    }

    It 'Get-Help -Online opens the cmdlet''s page (here through a stand-in for xdg-open)' -Skip:(-not $IsLinux) {
        $bin = New-Item -ItemType Directory (Join-Path $TestDrive 'bin')
        $opened = Join-Path $TestDrive 'opened.txt'
        Set-Content (Join-Path $bin 'xdg-open') "#!/bin/sh`necho `"`$1`" >> '$opened'" -NoNewline
        chmod +x (Join-Path $bin 'xdg-open')
        $path = $env:PATH
        try {
            $env:PATH = "$bin$([IO.Path]::PathSeparator)$path"
            Get-Help Sync-ProfilePhoto -Online -ErrorAction Stop
        }
        finally { $env:PATH = $path }
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Test-Path $opened) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        (Get-Content $opened -Raw).Trim() | Should -Be (Get-Command Sync-ProfilePhoto).HelpUri
    }

    It 'has a complete manifest that Test-ModuleManifest accepts' {
        $manifest = Test-ModuleManifest $ModulePath -ErrorAction Stop  # the built module: what ships
        $data = Import-PowerShellDataFile (Join-Path $RepoRoot 'ProfileSync.psd1')
        $data.CompatiblePSEditions | Should -Be @('Core')
        $data.PowerShellVersion | Should -Be '7.4'
        $data.FormatsToProcess | Should -Contain 'ProfileSync.format.ps1xml'
        $data.PrivateData.PSData.Tags.Count | Should -BeGreaterOrEqual 3
        $data.PrivateData.PSData.ProjectUri | Should -Match '^https://'
        $data.PrivateData.PSData.LicenseUri | Should -Match '^https://'
        $data.PrivateData.PSData.ReleaseNotes | Should -Match ([regex]::Escape($data.ModuleVersion))
        $data.CmdletsToExport | Should -Not -Contain '*'
        @(Get-Command -Module ProfileSync).Name | Sort-Object | Should -Be ($data.CmdletsToExport | Sort-Object) -Because 'what is exported is exactly what the manifest lists'
        $manifest.Version | Should -Be ([version]$data.ModuleVersion)
        (Get-Item (Join-Path (Split-Path $ModulePath) 'dependencies/ProfileSync.Core.dll')).VersionInfo.FileVersion | Should -BeLike "$($data.ModuleVersion)*" -Because 'the assemblies carry the manifest version'
    }
}
