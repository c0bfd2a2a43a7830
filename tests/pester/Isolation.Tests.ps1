BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }

    # What another Microsoft 365 module brings into the session: older MSAL, Azure.Core, Azure.Identity
    # and Microsoft.Graph.Core (restored by tests/PesterRestore), loaded into PowerShell's default
    # context and then used: a public client built, a credential made.
    $script:LoadOthers = @"
foreach (`$dll in '$packages/microsoft.identitymodel.abstractions/6.33.0/lib/net6.0/Microsoft.IdentityModel.Abstractions.dll',
                 '$packages/microsoft.identity.client/4.55.0/lib/net6.0/Microsoft.Identity.Client.dll',
                 '$packages/azure.core/1.36.0/lib/net6.0/Azure.Core.dll',
                 '$packages/azure.identity/1.10.0/lib/netstandard2.0/Azure.Identity.dll',
                 '$packages/microsoft.graph.core/3.2.4/lib/net6.0/Microsoft.Graph.Core.dll') { Add-Type -Path `$dll }
`$app = [Microsoft.Identity.Client.PublicClientApplicationBuilder]::Create('00000000-0000-0000-0000-0000000000aa').WithAuthority('https://login.microsoftonline.com/contoso.onmicrosoft.com').Build()
`$result.OtherClientId = `$app.AppConfig.ClientId
`$credential = [Azure.Identity.ClientSecretCredential]::new('contoso.onmicrosoft.com', '00000000-0000-0000-0000-0000000000aa', 'not-a-secret')
`$result.OtherCredential = `$credential.GetType().FullName
"@

    # Which copy of each assembly loaded where: name -> "version [load context]".
    $script:ListAssemblies = @'
$result.Assemblies = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in 'Microsoft.Identity.Client', 'Azure.Core', 'Azure.Identity', 'Microsoft.Graph.Core', 'ProfileSync.Core', 'ProfileSync' } |
    ForEach-Object { '{0} {1} [{2}]' -f $_.GetName().Name, $_.GetName().Version.ToString(3), [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name } | Sort-Object)
'@
    $script:SyncSome = @'
$synced = @('adele.vance@contoso.com', "o'neil@contoso.com", 'jürgen@contoso.com' | Sync-ProfilePhoto -Confirm:$false -ErrorAction SilentlyContinue)
$result.Actions = @($synced | ForEach-Object { [string]$_.Action })
$result.InSyncAfter = @('adele.vance@contoso.com', "o'neil@contoso.com", 'jürgen@contoso.com' | Get-PhotoSyncState | Where-Object State -eq 'InSync').Count
'@
}

Describe 'Other modules in the same session (dependency isolation)' {
    BeforeEach {
        $script:emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $DemoScenario
    }
    AfterEach { Stop-TenantEmulator $emu }

    It 'older Graph.Core, Azure.Identity and MSAL loaded first do not break a managed-identity sync' {
        $r = Invoke-ManagedIdentityProcess $emu -Before $LoadOthers -Script ($SyncSome + "`n" + $ListAssemblies)
        $r.BeforeError | Should -BeNullOrEmpty
        $r.OtherCredential | Should -Be 'Azure.Identity.ClientSecretCredential'
        $r.Error | Should -BeNullOrEmpty -Because $r.Message
        $r.Actions | Should -Be @('Skipped', 'Updated', 'Updated')
        $r.InSyncAfter | Should -Be 3
        $r.Assemblies | Should -Contain 'Microsoft.Identity.Client 4.55.0 [Default]'
        $r.Assemblies | Should -Contain 'Azure.Identity 1.10.0 [Default]'
        $r.Assemblies | Should -Contain 'Microsoft.Graph.Core 3.2.4 [Default]'
        @($r.Assemblies | Where-Object { $_ -like 'Microsoft.Identity.Client 4.*[[]ProfileSync]' -and $_ -notlike '*4.55.0*' }) | Should -HaveCount 1 -Because 'ProfileSync keeps its own, newer MSAL'
        @($r.Assemblies | Where-Object { $_ -like 'Microsoft.Graph.Core 4.*[[]ProfileSync]' }) | Should -HaveCount 1
        $r.Assemblies | Should -Contain "ProfileSync.Core $ModuleVersion [ProfileSync]"
    }

    It 'with ProfileSync loaded and signed in first, the older assemblies still load and work' {
        $r = Invoke-ManagedIdentityProcess $emu -Script $SyncSome -After ($LoadOthers + "`n" + $ListAssemblies)
        $r.Error | Should -BeNullOrEmpty -Because $r.Message
        $r.Actions | Should -Be @('Skipped', 'Updated', 'Updated')
        $r.AfterError | Should -BeNullOrEmpty
        $r.OtherClientId | Should -Be '00000000-0000-0000-0000-0000000000aa'
        $r.OtherCredential | Should -Be 'Azure.Identity.ClientSecretCredential'
        $r.Assemblies | Should -Contain 'Microsoft.Identity.Client 4.55.0 [Default]'
        $r.Assemblies | Should -Contain 'Azure.Core 1.36.0 [Default]'
        @($r.Assemblies | Where-Object { $_ -like 'ProfileSync *' }) | Should -Be @("ProfileSync $ModuleVersion [Default]")
    }
}
