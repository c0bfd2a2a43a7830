BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:SlowScenario = Join-Path $RepoRoot 'tests/ProfileSync.TenantEmulator/scenarios/slow.json'

    # A token revoked mid-run: after $After more requests the service answers 401 to the token it accepted so far
    # (real SharePoint and Graph answer a revoked token so). A pre-acquired token cannot be renewed, so the run stops
    # with AuthenticationFailed.
    function Set-EmulatorTokenRejection($Emulator, [ValidateSet('sharepoint', 'graph')] [string] $Service, [int] $After) {
        Invoke-RestMethod -Method Post -Uri ([uri]::new($Emulator.Control, "tokens/reject?service=$Service&after=$After")) | Out-Null
    }
    function Reset-EmulatorTokenRejection($Emulator) {
        Invoke-RestMethod -Method Post -Uri ([uri]::new($Emulator.Control, 'tokens/accept')) | Out-Null
    }

    # A scenario of its own tenant: $Count users named <prefix>NNN@<tenant>.com, every one needing a sync or in sync.
    function New-TenantScenario([string] $Tenant, [string] $Prefix, [int] $Count, [int] $LatencyMs) {
        $path = Join-Path $TestDrive "$Tenant.json"
        @{
            tenant     = $Tenant; latencyMs = $LatencyMs
            population = @{
                count = $Count; upnFormat = "$Prefix{0:000}@$Tenant.com"; seed = 400
                mix   = @('stale', 'none', 'missing-file', 'placeholder-with-url', 'synced-objectid')
            }
        } | ConvertTo-Json -Depth 4 | Set-Content $path
        $path
    }
}

Describe 'A run stopped by a failure leaves nothing behind for the next command' {
    BeforeEach {
        # A fresh tenant each time (a stopped sync changes it), connected as the session's current connection.
        $script:emu = Start-ConnectedEmulator $SlowScenario
        $script:users = @(Get-EmulatorUserList $emu)
    }
    AfterEach { Stop-TenantEmulator $emu }

    It 'a check right after a stopped sync gives every user a state (<Service> token rejected mid-run)' -TestCases @(
        # SharePoint: the library listing, the admin check, then a profile read per user and about 5 requests per user written;
        # 100 lets some users finish.
        @{ Service = 'sharepoint'; After = 100 }
        # Graph: the directory listing, then photo metadata 20 users to a batch (read ahead of the users in flight) and downloads.
        @{ Service = 'graph'; After = 12 }
    ) {
        # Slow answers (150 ms a request) make the stopped run's tail as long as a real tenant's: requests it had sent when
        # it stopped are answered, and what its users do next happens, while the next command is already running.
        Invoke-RestMethod -Method Post -Uri ([uri]::new($emu.Control, 'limits?latencyMs=150')) | Out-Null
        Set-EmulatorTokenRejection $emu $Service $After
        $stopped = $null
        $synced = [Collections.Generic.List[object]]::new()
        try { Sync-ProfilePhoto -All -ErrorAction SilentlyContinue | ForEach-Object { $synced.Add($_) } }
        catch { $stopped = $_ }
        # The tenant takes the token again (the admin renewed it); the session keeps its connection: no Connect-ProfileSync.
        Reset-EmulatorTokenRejection $emu
        $stopped | Should -Not -BeNullOrEmpty -Because 'the rejected token stops the run with a terminating error'
        $stopped.FullyQualifiedErrorId | Should -BeLike 'AuthenticationFailed,*'
        $synced.Count | Should -BeLessThan $users.Count -Because 'the run stopped midway'

        $checkError = $null
        $states = @()
        try { $states = @(Get-PhotoSyncState -All -ErrorAction SilentlyContinue) }
        catch { $checkError = $_ }
        $checkError | Should -BeNullOrEmpty -Because "the check is a run of its own, not the end of the stopped sync"
        $states.Count | Should -Be $users.Count -Because 'every user is checked'
        @($states.UserPrincipalName | Sort-Object -Unique) | Should -Be @($users | Sort-Object -Unique)
        # No user of this scenario fails on its own: an Error here is something the stopped run left behind
        # (its failure, a cancelled lookup read ahead for it).
        $errors = @($states | Where-Object State -eq 'Error')
        $errors | Should -BeNullOrEmpty -Because "no state carries the stopped run's failure (first: $(($errors | Select-Object -First 1 | ForEach-Object { "$($_.UserPrincipalName): $($_.Reason)" })))"
    }
}

Describe 'Two tenants side by side with ForEach-Object -Parallel' {
    BeforeAll {
        $script:tenants = @(
            @{ Emulator = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario (New-TenantScenario 'contoso' 'c' 50 10) }
            @{ Emulator = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario (New-TenantScenario 'fabrikam' 'f' 50 10) }
        )
    }
    AfterAll { foreach ($t in $tenants) { Stop-TenantEmulator $t.Emulator } }

    It 'each runspace syncs and checks its own tenant through its own -Connection, results not mixed' {
        $jobs = foreach ($t in $tenants) {
            $e = $t.Emulator
            [pscustomobject]@{
                Tenant     = $e.Tenant
                Connection = Connect-ProfileSync -Pacing Adaptive -TenantName $e.Tenant -ReturnConnection -GraphEndpoint $e.Graph -MySiteHostUrl $e.MySite -SharePointAdminUrl $e.Admin `
                    -GraphAccessToken (ConvertTo-SecureString $e.GraphToken -AsPlainText -Force) `
                    -SharePointAccessToken (ConvertTo-SecureString $e.SharePointToken -AsPlainText -Force)
            }
        }
        $jobs[0].Tenant | Should -Be 'contoso'
        $jobs[1].Tenant | Should -Be 'fabrikam'

        $runs = @($jobs | ForEach-Object -ThrottleLimit 2 -Parallel {
                Import-Module $using:ModulePath
                $job = $_
                $start = [DateTimeOffset]::UtcNow
                $synced = @(Sync-ProfilePhoto -All -Connection $job.Connection -ErrorAction SilentlyContinue -Confirm:$false)
                $states = @(Get-PhotoSyncState -All -Connection $job.Connection -ErrorAction SilentlyContinue)
                [pscustomobject]@{ Tenant = $job.Tenant; Synced = $synced; States = $states; Start = $start; End = [DateTimeOffset]::UtcNow }
            })
        $runs | Should -HaveCount 2
        $contoso = $runs | Where-Object Tenant -eq 'contoso'
        $fabrikam = $runs | Where-Object Tenant -eq 'fabrikam'
        ($contoso.Start -lt $fabrikam.End -and $fabrikam.Start -lt $contoso.End) | Should -BeTrue -Because 'the two runs ran at the same time'

        # Each tenant's users as its emulator holds them now (UPN, object id, profile), read once.
        $held = foreach ($t in $tenants) {
            $byUpn = @{}
            foreach ($upn in Get-EmulatorUserList $t.Emulator) { $byUpn[$upn] = Get-EmulatorUser $t.Emulator $upn }
            , $byUpn
        }
        foreach ($i in 0, 1) {
            $own = $tenants[$i].Emulator
            $other = $tenants[1 - $i].Emulator
            $run = $runs | Where-Object Tenant -eq $own.Tenant
            $ownUsers = @($held[$i].Keys | Sort-Object)
            $otherUsers = @($held[1 - $i].Keys)
            $ownUsers | Should -HaveCount 50
            @($ownUsers | Where-Object { $_ -notlike "*@$($own.Tenant).com" }) | Should -BeNullOrEmpty

            @($run.Synced.UserPrincipalName | Sort-Object) | Should -Be $ownUsers -Because "the $($own.Tenant) sync gives a result for each of its users and no other"
            @($run.States.UserPrincipalName | Sort-Object) | Should -Be $ownUsers -Because "the $($own.Tenant) check gives a state for each of its users and no other"
            @($run.Synced | Where-Object Action -eq 'Failed') | Should -BeNullOrEmpty -Because "no $($own.Tenant) user fails"
            @($run.States | Where-Object State -ne 'InSync') | Should -BeNullOrEmpty -Because "every $($own.Tenant) user is in sync after its sync"
            foreach ($r in $run.Synced | Where-Object Action -eq 'Updated') {
                $held[$i][$r.UserPrincipalName].Profile.PictureURL | Should -Be $r.PictureUrl
            }

            # Each emulator saw only its own requests: its own tokens, its own users.
            $log = @(Get-EmulatorLog $own)
            $log.Count | Should -BeGreaterThan 0
            @($log | Where-Object { -not $_.Authorized }) | Should -BeNullOrEmpty -Because "every request to $($own.Tenant) carried $($own.Tenant)'s token"
            # Thumbnails are named by the user's object id: each one written here is one of this tenant's users'.
            $ownIds = @($held[$i].Values.Id)
            $otherIds = @($held[1 - $i].Values.Id)
            $written = @(Get-EmulatorFile $own | ForEach-Object { ($_.Path -split '/')[-1] } | Where-Object { $_ -match '^([0-9a-f-]{36})_' } | ForEach-Object { $Matches[1] } | Sort-Object -Unique)
            $written.Count | Should -BeGreaterThan 0
            @($written | Where-Object { $_ -notin $ownIds }) | Should -BeNullOrEmpty -Because "every thumbnail in $($own.Tenant) is named by one of its users"
            $otherNames = ($otherUsers + $otherIds | ForEach-Object { [regex]::Escape($_) }) -join '|'
            $foreign = @($log | Where-Object { [uri]::UnescapeDataString($_.Target) -match $otherNames } | ForEach-Object Target)
            $foreign | Should -BeNullOrEmpty -Because "no request to $($own.Tenant) names a $($other.Tenant) user (by UPN or object id)"
        }
        foreach ($job in $jobs) { Disconnect-ProfileSync -Connection $job.Connection }
    }
}
