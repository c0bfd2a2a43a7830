BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'The built module' {
    It 'imports and exports exactly the manifest''s cmdlets' {
        $commands = Get-Command -Module ProfileSync | ForEach-Object Name | Sort-Object
        $commands | Should -Be @((Import-PowerShellDataFile (Join-Path $RepoRoot 'ProfileSync.psd1')).CmdletsToExport | Sort-Object)
    }

    It 'uses only approved verbs' {
        $approved = Get-Verb | ForEach-Object Verb
        foreach ($command in Get-Command -Module ProfileSync) {
            $approved | Should -Contain $command.Verb -Because "$($command.Name) must use an approved verb"
        }
    }

    It 'has a valid manifest for PowerShell 7.4 Core' {
        $manifest = Test-ModuleManifest -Path $ModulePath
        $manifest.PowerShellVersion | Should -Be ([version]'7.4')
        $manifest.CompatiblePSEditions | Should -Be @('Core')
    }

    It 'has table views for its results' {
        $formats = Get-FormatData -TypeName 'ProfileSync.Core.Sync.PhotoSyncState', 'ProfileSync.Core.Sync.PhotoSyncResult'
        $formats | Should -HaveCount 2
    }

    It 'supports -WhatIf and -Confirm on Sync-ProfilePhoto' {
        $parameters = (Get-Command Sync-ProfilePhoto).Parameters
        $parameters.Keys | Should -Contain 'WhatIf'
        $parameters.Keys | Should -Contain 'Confirm'
    }

    It 'accepts the documented aliases for the user column' {
        foreach ($name in 'Get-PhotoSyncState', 'Sync-ProfilePhoto') {
            $aliases = (Get-Command $name).Parameters['UserPrincipalName'].Aliases
            foreach ($alias in 'UPN', 'Mail', 'Email', 'Identity', 'UserId') { $aliases | Should -Contain $alias }
        }
    }

    It 'refuses to run before Connect-ProfileSync with a terminating NotConnected error' {
        # A fresh process: this session may already hold a connection from another test file.
        $pwsh = Get-PwshCommandLine
        $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command "Import-Module '$ModulePath'; try { Get-PhotoSyncState a@contoso.com } catch { `$_.FullyQualifiedErrorId }"
        $output | Should -Match '^NotConnected,'
    }

    It 'refuses a malformed tenant name' {
        $token = ConvertTo-SecureString 'x' -AsPlainText -Force
        { Connect-ProfileSync -TenantName 'con toso' -GraphAccessToken $token -SharePointAccessToken $token } |
            Should -Throw -ErrorId 'InvalidParameter,ProfileSync.PowerShell.Commands.ConnectProfileSyncCommand'
    }

    It 'defaults the endpoints from the tenant name' {
        $token = ConvertTo-SecureString 'x' -AsPlainText -Force
        $c = Connect-ProfileSync -Pacing Adaptive -TenantName 'contoso.onmicrosoft.com' -GraphAccessToken $token -SharePointAccessToken $token -PassThru
        $c.GraphEndpoint | Should -Be ([uri]'https://graph.microsoft.com/')
        $c.MySiteHostUrl | Should -Be ([uri]'https://contoso-my.sharepoint.com/')
        $c.SharePointAdminUrl | Should -Be ([uri]'https://contoso-admin.sharepoint.com/')
    }
}
