# Issue 12, item 3: Test-ProfileSyncConnection, the command an admin runs first in a real tenant. Against a good
# emulated tenant every check passes; for each broken setup exactly the right check fails, with its remedy, and
# the others keep their verdicts. -ReadOnly and -WhatIf send no write; -ReportPath holds no token and no UPN.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:emu = Start-ConnectedEmulator
    $script:TestUpn = 'adele.vance@contoso.com'
    $script:AllChecks = @('Graph token', 'SharePoint token', 'Graph user read', 'Graph photo read', 'My Site host', 'Photo folder', 'Profile read', 'People search', 'Profile write', 'Upload')
    function Invoke-Control([string] $PathAndQuery) {
        Invoke-RestMethod -Method Post -Uri ([uri]::new($emu.Control, $PathAndQuery)) | Out-Null
    }
    function Reset-Tenant {
        Invoke-Control 'rights?profileWrite=allowed&upload=allowed'
        Invoke-Control 'rights?graphPhoto=allowed'
        Invoke-Control 'tokens/accept'
        Invoke-Control 'search?mode=allowed'
    }
    function Get-Verdicts($Results) {
        $map = [ordered]@{}
        foreach ($r in $Results) { $map[$r.Check] = [string]$r.Status }
        $map
    }
    function Get-WriteRequests {
        @(Get-EmulatorLog $emu | Where-Object { $_.Method -eq 'POST' -and ($_.Target -like '*SetSingleValueProfileProperty*' -or $_.Target -like '*AddUsingPath*') })
    }
}
AfterAll {
    Stop-TenantEmulator $emu
}

Describe 'Test-ProfileSyncConnection against a good tenant' {
    BeforeEach { Clear-EmulatorLog $emu }

    It 'passes every check, as typed ProfileSyncCheck results in order, with a verbose summary' {
        $verbose = $null
        $results = @(Test-ProfileSyncConnection -TestUser $TestUpn -Verbose 4>&1 | Tee-Object -Variable all | Where-Object { $_.PSObject.TypeNames[0] -eq 'ProfileSync.Core.Diagnostics.ProfileSyncCheck' })
        $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        @($results.Check) | Should -Be $AllChecks
        foreach ($r in $results) {
            $r.Status | Should -Be 'Passed' -Because "$($r.Check): $($r.Detail) / $($r.Remedy)"
            $r.Passed | Should -BeTrue
            $r.Remedy | Should -BeNullOrEmpty
            $r.Service | Should -BeIn 'Graph', 'SharePoint'
            $r.Duration | Should -BeOfType [timespan]
        }
        # The emulator's tokens are opaque: a pass that says so, not a failure.
        $results | Where-Object Check -like '* token' | ForEach-Object { $_.Detail | Should -Match 'not a JWT, kind unknown' }
        ($verbose | Select-Object -Last 1).Message | Should -Match '^Test-ProfileSyncConnection: 10 checks, 10 passed, 0 failed, 0 skipped'
    }

    It 'proves the rights with the sync''s harmless write and one test file that it recycles' {
        $filesBefore = @(Get-EmulatorFile $emu | ForEach-Object Path) -join '|'
        $profileBefore = (Get-EmulatorUser $emu $TestUpn).Profile
        $null = Test-ProfileSyncConnection -TestUser $TestUpn
        $writes = Get-WriteRequests
        @($writes | Where-Object Target -like '*SetSingleValueProfileProperty*').Count | Should -Be 1
        @($writes | Where-Object Target -like '*AddUsingPath*').Count | Should -Be 1
        @($writes | Where-Object Target -like '*AddUsingPath*')[0].Target | Should -Match 'ProfileSync-connection-test-[0-9a-f]{32}\.txt'
        @(Get-EmulatorLog $emu | Where-Object Target -like '*recycle()*').Count | Should -Be 1
        (@(Get-EmulatorFile $emu | ForEach-Object Path) -join '|') | Should -Be $filesBefore -Because 'the test file went to the recycle bin'
        $after = (Get-EmulatorUser $emu $TestUpn).Profile
        $after.'SPS-PictureTimestamp' | Should -Be $profileBefore.'SPS-PictureTimestamp'
        $after.PictureURL | Should -Be $profileBefore.PictureURL
    }

    It '-Quiet returns one $true' {
        $quiet = @(Test-ProfileSyncConnection -TestUser $TestUpn -Quiet)
        $quiet.Count | Should -Be 1
        $quiet[0] | Should -BeOfType [bool]
        $quiet[0] | Should -BeTrue
    }

    It 'the table view fits 120 columns with Remedy last' {
        $lines = @(Test-ProfileSyncConnection -TestUser $TestUpn -ReadOnly | Format-Table | Out-String -Width 120 -Stream | Where-Object { $_ })
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 120 }
        $header = $lines[0].Trim() -split '\s+'
        $header | Should -Be @('Check', 'Status', 'Detail', 'Remedy')
    }
}

Describe 'Test-ProfileSyncConnection: each broken setup fails exactly its check' {
    BeforeEach { Clear-EmulatorLog $emu }
    AfterEach { Reset-Tenant }

    It '<Setup>: <Check> fails with a remedy naming <Remedy>; the others keep their verdicts' -ForEach @(
        @{ Setup = 'profile write refused (403)'; Control = 'rights?profileWrite=403'; Check = 'Profile write'; Remedy = 'User\.ReadWrite\.All'; ErrorId = 'ProfileWriteRefused' }
        @{ Setup = 'profile write refused (500)'; Control = 'rights?profileWrite=500'; Check = 'Profile write'; Remedy = 'User\.ReadWrite\.All'; ErrorId = 'ProfileWriteRefused' }
        @{ Setup = 'upload refused'; Control = 'rights?profileWrite=allowed&upload=refused'; Check = 'Upload'; Remedy = 'SharePoint Administrator'; ErrorId = 'AccessDenied' }
        @{ Setup = 'no Graph photo permission'; Control = 'rights?graphPhoto=refused'; Check = 'Graph photo read'; Remedy = 'ProfilePhoto\.Read\.All'; ErrorId = 'AccessDenied' }
        @{ Setup = 'People search refused'; Control = 'search?mode=refused'; Check = 'People search'; Remedy = 'one by one'; ErrorId = 'AccessDenied' }
        @{ Setup = 'People search empty'; Control = 'search?mode=empty'; Check = 'People search'; Remedy = 'one by one'; ErrorId = $null }
    ) {
        Invoke-Control $Control
        $results = @(Test-ProfileSyncConnection -TestUser $TestUpn)
        $verdicts = Get-Verdicts $results
        @($verdicts.Keys) | Should -Be $AllChecks
        foreach ($name in $AllChecks) {
            $expected = if ($name -eq $Check) { 'Failed' } else { 'Passed' }
            $verdicts[$name] | Should -Be $expected -Because "$name ($(($results | Where-Object Check -eq $name).Detail))"
        }
        $failed = $results | Where-Object Check -eq $Check
        $failed.Passed | Should -BeFalse
        $failed.Remedy | Should -Match $Remedy
        if ($ErrorId) { $failed.ErrorId | Should -Be $ErrorId } else { $failed.ErrorId | Should -BeNullOrEmpty }
        Test-ProfileSyncConnection -TestUser $TestUpn -Quiet | Should -BeFalse
    }

    It 'a SharePoint token the service rejects: the SharePoint token check fails (connect again), Graph passes, the SharePoint checks are skipped' {
        Invoke-Control 'tokens/reject?service=sharepoint&after=0'
        $results = @(Test-ProfileSyncConnection -TestUser $TestUpn -ErrorAction Stop)
        $verdicts = Get-Verdicts $results
        $verdicts['SharePoint token'] | Should -Be 'Failed'
        foreach ($name in 'Graph token', 'Graph user read', 'Graph photo read') { $verdicts[$name] | Should -Be 'Passed' -Because $name }
        foreach ($name in 'My Site host', 'Photo folder', 'Profile read', 'Profile write', 'Upload') {
            $verdicts[$name] | Should -Be 'Skipped' -Because $name
            ($results | Where-Object Check -eq $name).Detail | Should -Match "SharePoint token"
        }
        $token = $results | Where-Object Check -eq 'SharePoint token'
        $token.Remedy | Should -Match 'Connect-ProfileSync'
        $token.HttpStatus | Should -Be 401
        Get-WriteRequests | Should -BeNullOrEmpty
        Invoke-Control 'tokens/accept'
        @(Test-ProfileSyncConnection -TestUser $TestUpn | Where-Object Status -ne 'Passed') | Should -BeNullOrEmpty -Because 'accepted again, everything passes'
    }

    It 'a test user Graph does not know fails the user and photo reads, never throws' {
        $results = @(Test-ProfileSyncConnection -TestUser 'nobody.here@contoso.com' -ReadOnly -ErrorAction Stop)
        (Get-Verdicts $results)['Graph user read'] | Should -Be 'Failed'
        ($results | Where-Object Check -eq 'Graph user read').Remedy | Should -Match '-TestUser'
    }
}

Describe 'Test-ProfileSyncConnection writes nothing with -ReadOnly or -WhatIf' {
    BeforeEach { Clear-EmulatorLog $emu }

    It '-ReadOnly sends no write request and reports the write checks as skipped' {
        $results = @(Test-ProfileSyncConnection -TestUser $TestUpn -ReadOnly)
        Get-WriteRequests | Should -BeNullOrEmpty
        @(Get-EmulatorLog $emu | Where-Object Method -in 'POST', 'PUT', 'PATCH', 'DELETE') | Should -BeNullOrEmpty
        foreach ($name in 'Profile write', 'Upload') {
            ($results | Where-Object Check -eq $name).Status | Should -Be 'Skipped'
            ($results | Where-Object Check -eq $name).Detail | Should -Match 'ReadOnly'
        }
        @($results | Where-Object Status -eq 'Passed').Count | Should -Be ($AllChecks.Count - 2)
        Test-ProfileSyncConnection -TestUser $TestUpn -ReadOnly -Quiet | Should -BeTrue
    }

    It '-WhatIf sends no write request and says so in the results' {
        $results = @(Test-ProfileSyncConnection -TestUser $TestUpn -WhatIf)
        Get-WriteRequests | Should -BeNullOrEmpty
        @(Get-EmulatorLog $emu | Where-Object Method -in 'POST', 'PUT', 'PATCH', 'DELETE') | Should -BeNullOrEmpty
        foreach ($name in 'Profile write', 'Upload') {
            ($results | Where-Object Check -eq $name).Status | Should -Be 'Skipped'
            ($results | Where-Object Check -eq $name).Detail | Should -Match 'WhatIf'
        }
    }
}

Describe 'Test-ProfileSyncConnection -ReportPath' {
    AfterEach { Reset-Tenant }

    It 'writes the shapes of requests and answers, with no token and no UPN' {
        Invoke-Control 'rights?profileWrite=403'
        $path = Join-Path $TestDrive 'report.json'
        $null = Test-ProfileSyncConnection -TestUser $TestUpn -ReportPath $path
        $text = Get-Content -Raw $path
        $text | Should -Not -Match ([regex]::Escape($emu.GraphToken)) -Because 'no token'
        $text | Should -Not -Match ([regex]::Escape($emu.SharePointToken)) -Because 'no token'
        $text | Should -Not -Match 'adele' -Because 'no user name, in any encoding'
        $text | Should -Not -Match '(?i)contoso' -Because 'no tenant or domain name'
        $text | Should -Not -Match ([regex]::Escape($emu.MySite.Authority)) -Because 'hosts are placeholders'
        $report = $text | ConvertFrom-Json
        $report.format | Should -Be 'ProfileSync.ConnectionReport/1'
        @($report.checks).Count | Should -Be $AllChecks.Count
        ($report.checks | Where-Object check -eq 'Profile write').status | Should -Be 'Failed'
        $exchanges = @($report.exchanges)
        @($exchanges | Where-Object service -eq 'Graph').Count | Should -BeGreaterThan 0
        @($exchanges | Where-Object service -eq 'SharePoint').Count | Should -BeGreaterThan 0
        $profileRead = $exchanges | Where-Object path -like '*GetPropertiesFor*' | Select-Object -First 1
        $profileRead.host | Should -Be '{mysite}'
        $profileRead.path | Should -Match '\{user\}'
        $profileRead.status | Should -Be 200
        $profileRead.responseBody.AccountName | Should -Be 'string' -Because 'values are replaced by their JSON types'
        $refused = $exchanges | Where-Object path -like '*SetSingleValueProfileProperty*' | Select-Object -First 1
        $refused.host | Should -Be '{admin}'
        $refused.status | Should -Be 403
        $refused.requestBody.accountName | Should -Be 'string'
    }
}

Describe 'Test-ProfileSyncConnection without a connection' {
    AfterAll { Connect-TenantEmulator $emu }

    It 'is one terminating NotConnected error' {
        Disconnect-ProfileSync
        $err = $null
        try { $null = Test-ProfileSyncConnection -TestUser $TestUpn -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'NotConnected,*'
    }
}
