BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    # A tenant whose managed identities are set per test: what each was granted, how long its tokens live.
    function New-IdentityScenario([object[]] $Identities, [int] $Users = 40, [int] $LatencyMs = 0) {
        $path = Join-Path $TestDrive ("identity-{0}.json" -f [guid]::NewGuid().ToString('N'))
        @{
            tenant = 'contoso'; latencyMs = $LatencyMs; managedIdentities = $Identities
            population = @{ count = $Users; upnFormat = 'mi{0:000}@contoso.com'; seed = 700; photoSize = 120
                mix = @('synced-by-sharepoint', 'stale', 'none', 'no-exchange-photo', 'missing-file') }
        } | ConvertTo-Json -Depth 5 | Set-Content $path
        $path
    }

    function Get-IdentityRequests($Emulator, [string] $Resource) {
        @(Get-EmulatorLog $Emulator | Where-Object { $_.Service -eq 'identity' -and $_.Target -like "*resource=$Resource*" })
    }
}

AfterAll {
    Disconnect-ProfileSync
}

Describe 'Managed identity sign-in (Azure Automation, Azure VMs)' {
    BeforeAll {
        $script:emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario (New-IdentityScenario @(
                @{ graphPermissions = @('ProfilePhoto.Read.All', 'User.Read.All'); sharePointAdmin = $true },
                @{ clientId = '11111111-2222-3333-4444-555555555555'; graphPermissions = @('User.Read.All'); sharePointAdmin = $true }))
    }
    AfterAll { Stop-TenantEmulator $emu }

    It 'signs in as the system-assigned identity, asks each service for its own resource, and checks users' {
        $r = Invoke-ManagedIdentityProcess $emu @'
$c = Get-ProfileSyncConnection
$result.Method = $c.AuthenticationMethod; $result.GraphScope = $c.GraphScope; $result.SharePointScope = $c.SharePointScope
$result.MinutesLeft = ($c.GraphTokenExpiresOn - [DateTimeOffset]::UtcNow).TotalMinutes
$states = Get-PhotoSyncState -All -ErrorAction SilentlyContinue
$result.Users = @($states).Count; $result.Errors = @($states | Where-Object State -eq 'Error').Count
'@
        $r.Error | Should -BeNullOrEmpty
        $r.Method | Should -Be 'ManagedIdentity (system-assigned)'
        $r.GraphScope | Should -Be 'https://graph.microsoft.com/.default'
        $r.SharePointScope | Should -Be 'https://contoso.sharepoint.com/.default'
        $r.MinutesLeft | Should -BeGreaterThan 50
        (Get-IdentityRequests $emu 'https://graph.microsoft.com') | Should -HaveCount 1
        (Get-IdentityRequests $emu 'https://contoso.sharepoint.com') | Should -HaveCount 1
        $r.Users | Should -Be 40
        $r.Errors | Should -Be 0
        @(Get-EmulatorLog $emu | Where-Object { $_.Service -ne 'identity' -and (-not $_.Authorized -or $_.CarriedOtherServiceToken) }) | Should -BeNullOrEmpty
    }

    It 'signs in as a user-assigned identity by its client id, and refuses an unknown one with one clear error' {
        $r = Invoke-ManagedIdentityProcess $emu '$c = Get-ProfileSyncConnection; $result.Method = $c.AuthenticationMethod; $result.ClientId = $c.ClientId' -ClientId '11111111-2222-3333-4444-555555555555'
        $r.Method | Should -Be 'ManagedIdentity (user-assigned)'
        $r.ClientId | Should -Be '11111111-2222-3333-4444-555555555555'
        (Get-EmulatorLog $emu | Where-Object { $_.Service -eq 'identity' } | Select-Object -Last 1).Target | Should -BeLike '*client_id=11111111-2222-3333-4444-555555555555*'
        $bad = Invoke-ManagedIdentityProcess $emu '$result.Connected = $true' -ClientId '99999999-0000-0000-0000-000000000000'
        $bad.Error | Should -Be 'SignInFailed,ProfileSync.PowerShell.Commands.ConnectProfileSyncCommand'
        $bad.Category | Should -Be 'AuthenticationError'
        $bad.Connected | Should -BeNullOrEmpty
    }
}

Describe 'Token renewal during a long run' {
    BeforeAll {
        # Tokens that live 2 seconds, a run of several: each must be renewed before the services refuse it.
        $script:emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario (New-IdentityScenario @(@{ tokenLifetimeSeconds = 2 }) -Users 150 -LatencyMs 40)
    }
    AfterAll { Stop-TenantEmulator $emu }

    It 'renews both tokens before they expire and no request meets an expired one' {
        $r = Invoke-ManagedIdentityProcess $emu @'
$clock = [Diagnostics.Stopwatch]::StartNew()
$results = Sync-ProfilePhoto -All -ThrottleLimit 12 -ErrorAction SilentlyContinue -Confirm:$false
$result.Seconds = $clock.Elapsed.TotalSeconds; $result.Users = @($results).Count; $result.Failed = @($results | Where-Object Action -eq 'Failed').Count
'@
        $r.Error | Should -BeNullOrEmpty
        $r.Seconds | Should -BeGreaterThan 4 -Because 'the run outlives two token lifetimes'
        $r.Users | Should -Be 150
        $r.Failed | Should -Be 0
        (Get-IdentityRequests $emu 'https://graph.microsoft.com').Count | Should -BeGreaterThan 2
        (Get-IdentityRequests $emu 'https://contoso.sharepoint.com').Count | Should -BeGreaterThan 2
        @(Get-EmulatorLog $emu | Where-Object { $_.Service -ne 'identity' -and -not $_.Authorized }) | Should -BeNullOrEmpty
    }
}

Describe 'Missing rights stop the run with one error that names them' {
    It 'Graph without ProfilePhoto.Read.All: one terminating AccessDenied, no per-user errors' {
        $emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario (New-IdentityScenario @(@{ graphPermissions = @() }))
        try {
            $r = Invoke-ManagedIdentityProcess $emu @'
$errs = $null
try { $out = 'mi001@contoso.com', 'mi002@contoso.com', 'mi003@contoso.com' | Get-PhotoSyncState -ErrorVariable errs -ErrorAction SilentlyContinue }
finally { $result.Written = ($out | Measure-Object).Count; $result.PerUserErrors = @($errs | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] -and "$($_.TargetObject)" -like 'mi0*' }).Count }
'@
            $r.Error | Should -BeLike 'AccessDenied,*'
            $r.Message | Should -Match 'ProfilePhoto\.Read\.All'
            $r.Category | Should -Be 'PermissionDenied'
            $r.Written | Should -Be 0
            $r.PerUserErrors | Should -Be 0
        }
        finally { Stop-TenantEmulator $emu }
    }

    It 'SharePoint without admin rights: Sync-ProfilePhoto stops before it writes anything' {
        $emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario (New-IdentityScenario @(@{ sharePointAdmin = $false }))
        try {
            # A dry run needs no write rights.
            $dry = Invoke-ManagedIdentityProcess $emu '$result.Actions = @(Sync-ProfilePhoto -All -WhatIf -ErrorAction SilentlyContinue | ForEach-Object { [string]$_.Action })'
            $dry.Error | Should -BeNullOrEmpty
            $dry.Actions | Should -Contain 'WouldUpdate'
            $r = Invoke-ManagedIdentityProcess $emu '$null = Sync-ProfilePhoto -All -ErrorAction SilentlyContinue -Confirm:$false'
            $r.Error | Should -BeLike 'AccessDenied,*'
            $r.Message | Should -Match 'SharePoint Administrator'
            @(Get-EmulatorLog $emu | Where-Object { $_.Method -eq 'POST' -and $_.Service -in 'mysite', 'admin' }) | Should -BeNullOrEmpty -Because 'nothing is written'
        }
        finally { Stop-TenantEmulator $emu }
    }
}

Describe 'Two tenants in one script' {
    It 'keeps a returned connection apart from the current one, and disconnects each' {
        $a = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $DemoScenario
        $b = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario (New-IdentityScenario @(@{}))
        try {
            Connect-TenantEmulator $a
            $second = Connect-ProfileSync -Pacing Adaptive -TenantName contoso -ReturnConnection -GraphEndpoint $b.Graph -MySiteHostUrl $b.MySite -SharePointAdminUrl $b.Admin `
                -GraphAccessToken (ConvertTo-SecureString $b.GraphToken -AsPlainText -Force) -SharePointAccessToken (ConvertTo-SecureString $b.SharePointToken -AsPlainText -Force)
            (Get-ProfileSyncConnection).GraphEndpoint | Should -Be $a.Graph -Because '-ReturnConnection does not replace the current connection'
            (Get-PhotoSyncState 'mi001@contoso.com' -Connection $second).State | Should -Not -Be 'Error'
            (Get-PhotoSyncState 'adele.vance@contoso.com').State | Should -Be 'InSync'
            @(Get-EmulatorLog $a | Where-Object Target -like '*mi001*') | Should -BeNullOrEmpty
            Disconnect-ProfileSync -Connection $second
            $second.IsDisconnected | Should -BeTrue
            { Get-PhotoSyncState 'mi001@contoso.com' -Connection $second } | Should -Throw -ErrorId 'NotConnected,*'
            Disconnect-ProfileSync
            Get-ProfileSyncConnection | Should -BeNullOrEmpty
        }
        finally { Stop-TenantEmulator $a; Stop-TenantEmulator $b }
    }
}

Describe 'The credential behind each parameter set (offline: Entra ID cannot be reached from here)' {
    It 'device code and certificate sign-ins go through their Azure.Identity credential and fail with one clear SignInFailed' {
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=ProfileSync test', $rsa, 'SHA256', [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $certificate = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddDays(1))
        $app = '00000000-0000-0000-0000-0000000000aa'
        $runs = @(
            @{ Name = 'DeviceCode'; Parameters = @{ ClientId = $app; UseDeviceCode = $true }; Credential = 'DeviceCodeCredential' }
            @{ Name = 'Certificate'; Parameters = @{ ClientId = $app; Certificate = $certificate; TenantId = 'contoso.onmicrosoft.com' }; Credential = 'ClientCertificateCredential' }
        )
        # Each attempt waits out Azure.Identity's network retries (about 12 s): run them side by side.
        $outcomes = $runs | ForEach-Object -ThrottleLimit 2 -Parallel {
            Import-Module $using:ModulePath
            $run = $_
            $parameters = $run.Parameters
            try { Connect-ProfileSync -TenantName contoso @parameters -ErrorAction Stop; [pscustomobject]@{ Name = $run.Name; Id = 'connected' } }
            catch { [pscustomobject]@{ Name = $run.Name; Id = $_.FullyQualifiedErrorId; Message = $_.Exception.Message; Credential = $run.Credential } }
        }
        $outcomes | Should -HaveCount 2
        foreach ($o in $outcomes) {
            $o.Id | Should -Be 'SignInFailed,ProfileSync.PowerShell.Commands.ConnectProfileSyncCommand' -Because "$($o.Name) cannot reach Entra ID here"
            $o.Message | Should -Match $o.Credential -Because "$($o.Name) signs in with $($o.Credential)"
            $o.Message | Should -Match 'login\.microsoftonline\.com' -Because 'the Global cloud signs in at its own authority'
        }
    }

    It 'a thumbprint not in the store is refused at once, naming it' {
        { Connect-ProfileSync -TenantName contoso -ClientId '00000000-0000-0000-0000-0000000000aa' -CertificateThumbprint 'AB CD EF 01 23 45 67 89 AB CD EF 01 23 45 67 89 AB CD EF 01' } |
            Should -Throw -ErrorId 'InvalidParameter,ProfileSync.PowerShell.Commands.ConnectProfileSyncCommand' -ExpectedMessage '*ABCDEF0123456789ABCDEF0123456789ABCDEF01*'
    }

    It 'offers exactly the documented parameter sets' {
        (Get-Command Connect-ProfileSync).ParameterSets.Name | Sort-Object |
            Should -Be @('AccessToken', 'Certificate', 'CertificatePath', 'CertificateThumbprint', 'DeviceCode', 'Interactive', 'ManagedIdentity')
        (Get-Command Connect-ProfileSync).DefaultParameterSet | Should -Be 'Interactive'
        (Get-Command Connect-ProfileSync).Parameters['Environment'].ParameterType.GetEnumNames() | Should -Be @('Global', 'USGovernment', 'USGovernmentDoD', 'China')
        foreach ($cmd in 'Get-PhotoSyncState', 'Sync-ProfilePhoto') { (Get-Command $cmd).Parameters.Keys | Should -Contain 'Connection' }
    }
}
