BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:SlowScenario = Join-Path $RepoRoot 'tests/ProfileSync.TenantEmulator/scenarios/slow.json'

    # Every user is either as it was, or fully synced: a changed PictureURL names S/M/L files that exist, with placeholder 0.
    # -Killed: a process killed between the two property writes (PictureURL, then placeholder 0) leaves
    # the new, complete thumbnails named with the placeholder still shown, which is what SharePoint showed
    # before (and a state SharePoint itself produces); the next run finishes it. No client can make two
    # property writes atomic, so this one order is chosen: never a placeholder 0 over a missing picture.
    function Assert-NoHalfWrittenUser($Emulator, $Before, [switch] $Killed) {
        $files = @((Get-EmulatorFile $Emulator).Path)
        foreach ($upn in $Before.Keys) {
            $was = $Before[$upn]
            $now = (Get-EmulatorUser $Emulator $upn).Profile
            if ($now.PictureURL -eq $was.PictureURL) {
                $now.'SPS-PicturePlaceholderState' | Should -Be $was.'SPS-PicturePlaceholderState' -Because "$upn was not synced, so it is untouched"
                continue
            }
            if ($Killed -and $was.'SPS-PicturePlaceholderState' -eq '1' -and $now.'SPS-PicturePlaceholderState' -eq '1') { $script:PendingPlaceholders++ }
            else { $now.'SPS-PicturePlaceholderState' | Should -Be '0' -Because "$upn was synced" }
            $medium = [uri]::UnescapeDataString(([uri]$now.PictureURL).AbsolutePath)
            foreach ($suffix in '_SThumb.jpg', '_MThumb.jpg', '_LThumb.jpg') {
                $files | Should -Contain ($medium -replace '_MThumb\.jpg$', $suffix) -Because "$upn points at its new thumbnails"
            }
        }
    }
}

Describe 'Limits in a whole-tenant run' {
    BeforeAll {
        $script:emu = Start-ConnectedEmulator $SlowScenario
    }
    AfterAll { Stop-TenantEmulator $emu }

    It 'never has more than 4 Graph photo requests in flight for one mailbox, and meets no 429' {
        $results = Sync-ProfilePhoto -All -ErrorAction SilentlyContinue
        $results | Should -HaveCount 200
        $stats = Invoke-RestMethod ([uri]::new($emu.Control, 'stats'))
        $stats.PeakMailboxConcurrency | Should -BeLessOrEqual 4
        $stats.PeakMailboxConcurrency | Should -BeGreaterThan 0
        $stats.Throttled | Should -Be 0
    }
}

Describe 'Stopping a sync midway (Ctrl+C)' {
    BeforeAll {
        $script:emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $SlowScenario
    }
    AfterAll { Stop-TenantEmulator $emu }

    It 'returns only once the users in flight are finished, sends nothing after it returned, keeps what it wrote, and leaves no user half-written' {
        $before = @{}
        foreach ($upn in Get-EmulatorUserList $emu) { $before[$upn] = (Get-EmulatorUser $emu $upn).Profile }

        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($module, $e)
                Import-Module $module
                Connect-ProfileSync -Pacing Adaptive -TenantName $e.Tenant -GraphEndpoint $e.Graph -MySiteHostUrl $e.MySite -SharePointAdminUrl $e.Admin `
                    -GraphAccessToken (ConvertTo-SecureString $e.GraphToken -AsPlainText -Force) `
                    -SharePointAccessToken (ConvertTo-SecureString $e.SharePointToken -AsPlainText -Force)
                Sync-ProfilePhoto -All -ErrorAction SilentlyContinue
            }).AddArgument($ModulePath).AddArgument($emu)
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ($output.Count -lt 30 -and [DateTime]::UtcNow -lt $deadline -and -not $async.IsCompleted) { Start-Sleep -Milliseconds 20 }
        $output.Count | Should -BeGreaterOrEqual 30 -Because 'the run was under way'

        $clock = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $clock.Stop()
        # The moment Stop returned, on the emulator's clock (same machine, both UTC), and how many requests it had logged by then.
        $stoppedAtMs = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
        $loggedAtStop = @(Get-EmulatorLog $emu).Count
        # Stop waits for the users in flight: a user whose write has begun is finished (S, L, M uploads, then PictureURL
        # and the placeholder: about 5 SharePoint requests at this scenario's 30 ms, behind the SharePoint pacer), for up to
        # 40 users in flight (the default -ThrottleLimit) on a small machine. 10 s bounds that with room; it still catches a
        # Stop that lets the run go on to the end (200 users) or that hangs.
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
        $written = @($output)
        $written.Count | Should -BeLessThan 200 -Because 'the run stopped before the end'

        # Nothing may reach the tenant once the cmdlet has returned. Compared by arrival time (ReceivedAtMs, when the
        # emulator's handler began), not by count: a read the run abandoned may still be answered, and logged, after Stop.
        # 50 ms allows for a request sent (and abandoned) just before Stop returned that the emulator's host picks up a moment later.
        Start-Sleep -Milliseconds 1500
        $log = @(Get-EmulatorLog $emu)
        $late = @($log | Where-Object { $_.ReceivedAtMs -gt $stoppedAtMs + 50 })
        $first = $late | Select-Object -First 1
        $because = "no request arrives after Stop returned (Stop took $([math]::Round($clock.Elapsed.TotalSeconds, 2)) s)"
        if ($first) {
            $because += "; $($late.Count) arrived later, the first $($first.ReceivedAtMs - $stoppedAtMs) ms after ($($first.Service) $($first.Method) " +
                "$([uri]::UnescapeDataString($first.Target))), the last $(($late | Select-Object -Last 1).ReceivedAtMs - $stoppedAtMs) ms after; " +
                "$($log.Count - $loggedAtStop) requests were logged after Stop returned"
        }
        $late.Count | Should -Be 0 -Because $because

        # The emulator is quiet (nothing can still be in flight); now check every user.
        $last = -1
        do { Start-Sleep -Milliseconds 300; $count = @(Get-EmulatorLog $emu).Count; $quiet = $count -eq $last; $last = $count } until ($quiet)
        Assert-NoHalfWrittenUser $emu $before
        foreach ($r in $written | Where-Object Action -eq 'Updated') {
            (Get-EmulatorUser $emu $r.UserPrincipalName).Profile.PictureURL | Should -Be $r.PictureUrl
        }
        $ps.Dispose()
    }
}

Describe 'Memory over a whole tenant' {
    BeforeAll {
        # One check run over N emulated users in its own process (so its peak working set is its own),
        # through the benchmark's runner. Small photos keep the emulator cheap; the mix still makes the
        # module download, decode and fingerprint one user in four.
        function Measure-CheckRun([int] $Users) {
            $scenario = Join-Path $TestDrive "memory-$Users.json"
            @{
                tenant     = 'contoso'; latencyMs = 0
                population = @{
                    count = $Users; upnFormat = 'user{0:000000}@contoso.com'; seed = 11; photoSize = 120
                    mix   = @('none', 'no-exchange-photo', 'missing-file', 'placeholder-with-url', 'synced-by-sharepoint', 'none', 'stale', 'missing-file')
                }
            } | ConvertTo-Json -Depth 4 | Set-Content $scenario
            $emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $scenario
            try {
                $env:PROFILESYNC_BENCH_GRAPH = $emu.Graph; $env:PROFILESYNC_BENCH_MYSITE = $emu.MySite; $env:PROFILESYNC_BENCH_ADMIN = $emu.Admin
                $env:PROFILESYNC_BENCH_GRAPHTOKEN = $emu.GraphToken; $env:PROFILESYNC_BENCH_SPOTOKEN = $emu.SharePointToken
                $pwsh = Get-PwshCommandLine
                $line = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -OutputFormat Text `
                    -File (Join-Path $RepoRoot 'tests/bench/RunOne.ps1') -Kind ProfileSync -Mode Check -ModulePath $ModulePath | Select-Object -Last 1
                $line | Should -Match '^\{' -Because "the run over $Users users finishes: $line"
                $line | ConvertFrom-Json
            }
            finally {
                foreach ($name in 'GRAPH', 'MYSITE', 'ADMIN', 'GRAPHTOKEN', 'SPOTOKEN') { Remove-Item "env:PROFILESYNC_BENCH_$name" -ErrorAction SilentlyContinue }
                Stop-TenantEmulator $emu
            }
        }
    }

    It 'peaks over 20,000 users within 1.25 times its peak over 2,000' {
        $small = Measure-CheckRun 2000
        $large = Measure-CheckRun 20000
        Write-Host ("    peak working set: 2,000 users {0} MB ({1:0.0} s), 20,000 users {2} MB ({3:0.0} s), ratio {4:0.00}" -f `
                $small.PeakMB, $small.Seconds, $large.PeakMB, $large.Seconds, ($large.PeakMB / $small.PeakMB))
        ($large.Outcomes.PSObject.Properties.Value | Measure-Object -Sum).Sum | Should -Be 20000 -Because 'every user was checked'
        ($small.Outcomes.PSObject.Properties.Value | Measure-Object -Sum).Sum | Should -Be 2000
        $large.PeakMB | Should -BeLessOrEqual (1.25 * $small.PeakMB)
    }
}

Describe 'Resumable runs (-JournalPath)' {
    BeforeAll {
        $script:emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $SlowScenario
        function Get-JournalEntries([string] $Path) { @(Get-Content $Path | Select-Object -Skip 1 | Where-Object { $_ } | ConvertFrom-Json) }
    }
    AfterAll { Stop-TenantEmulator $emu }

    It 'continues a stopped sync where it stopped, without redoing the users already finished' {
        $journal = Join-Path $TestDrive 'nightly.jsonl'
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($module, $e, $journal)
                Import-Module $module
                Connect-ProfileSync -Pacing Adaptive -TenantName $e.Tenant -GraphEndpoint $e.Graph -MySiteHostUrl $e.MySite -SharePointAdminUrl $e.Admin `
                    -GraphAccessToken (ConvertTo-SecureString $e.GraphToken -AsPlainText -Force) `
                    -SharePointAccessToken (ConvertTo-SecureString $e.SharePointToken -AsPlainText -Force)
                Sync-ProfilePhoto -All -JournalPath $journal -ErrorAction SilentlyContinue
            }).AddArgument($ModulePath).AddArgument($emu).AddArgument($journal)
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ($output.Count -lt 30 -and [DateTime]::UtcNow -lt $deadline -and -not $async.IsCompleted) { Start-Sleep -Milliseconds 20 }
        $ps.Stop()
        $ps.Dispose()
        $last = -1
        do { Start-Sleep -Milliseconds 300; $count = @(Get-EmulatorLog $emu).Count; $quiet = $count -eq $last; $last = $count } until ($quiet)

        $first = Get-JournalEntries $journal
        $first.Count | Should -BeGreaterOrEqual 30
        $first.Count | Should -BeLessThan 200 -Because 'the run was stopped'
        (Get-Content $journal -First 1 | ConvertFrom-Json).tenant | Should -Be 'contoso'

        Connect-TenantEmulator $emu
        Clear-EmulatorLog $emu
        $info = $null
        $second = @(Sync-ProfilePhoto -All -JournalPath $journal -ErrorAction SilentlyContinue -InformationVariable info)
        $done = @($first.upn)
        @($second | Where-Object { $_.UserPrincipalName -in $done }) | Should -BeNullOrEmpty -Because 'finished users are not done again'
        ($second.Count + $first.Count) | Should -Be 200
        $reads = @(Get-EmulatorLog $emu | Where-Object { $_.Target -like '*GetPropertiesFor*' })
        foreach ($upn in $done | Select-Object -First 10) {
            @($reads | Where-Object { [uri]::UnescapeDataString($_.Target) -like "*$upn*" }) | Should -BeNullOrEmpty -Because "$upn was finished in the first run"
        }
        ($info | Where-Object Tags -contains Summary).MessageData.Outcomes['AlreadyFinished'] | Should -Be $first.Count
        (Get-JournalEntries $journal).Count | Should -Be 200
        @(Get-PhotoSyncState -All | Where-Object State -ne 'InSync') | Should -BeNullOrEmpty
    }

    It 'continues a run whose process was killed, without doing any user twice, until every user is done once' {
        Stop-TenantEmulator $emu
        $script:emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $SlowScenario
        $before = @{}
        foreach ($upn in Get-EmulatorUserList $emu) { $before[$upn] = (Get-EmulatorUser $emu $upn).Profile }
        $journal = Join-Path $TestDrive 'killed.jsonl'
        $command = @"
Import-Module '$ModulePath'
Connect-ProfileSync -Pacing Adaptive -TenantName '$($emu.Tenant)' -GraphEndpoint '$($emu.Graph)' -MySiteHostUrl '$($emu.MySite)' -SharePointAdminUrl '$($emu.Admin)' ``
    -GraphAccessToken (ConvertTo-SecureString '$($emu.GraphToken)' -AsPlainText -Force) ``
    -SharePointAccessToken (ConvertTo-SecureString '$($emu.SharePointToken)' -AsPlainText -Force)
Sync-ProfilePhoto -All -JournalPath '$journal' -ErrorAction SilentlyContinue | Out-Null
"@
        $pwsh = Get-PwshCommandLine
        $start = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($argument in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($command)))) {
            $start.ArgumentList.Add($argument)
        }
        $process = [Diagnostics.Process]::Start($start)
        try {
            # Kill it (no Ctrl+C, no clean-up of any kind) once it has finished at least 30 users.
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while (-not $process.HasExited -and [DateTime]::UtcNow -lt $deadline -and
                (-not (Test-Path $journal) -or @(Get-Content $journal).Count -lt 31)) { Start-Sleep -Milliseconds 20 }
            $process.HasExited | Should -BeFalse -Because 'the run was still going when it was killed'
            $process.Kill($true)
            $process.WaitForExit()
        }
        finally { if (-not $process.HasExited) { $process.Kill($true) } }
        $last = -1
        do { Start-Sleep -Milliseconds 300; $count = @(Get-EmulatorLog $emu).Count; $quiet = $count -eq $last; $last = $count } until ($quiet)
        $script:PendingPlaceholders = 0
        Assert-NoHalfWrittenUser $emu $before -Killed
        $script:PendingPlaceholders | Should -BeLessOrEqual 32 -Because 'only users whose write was under way at the kill can be between the two property writes'

        # A killed process may leave its last line cut short: only whole lines count as finished users.
        $first = @(Get-Content $journal | Select-Object -Skip 1 | ForEach-Object { try { $_ | ConvertFrom-Json } catch { } } | Where-Object upn)
        $first.Count | Should -BeGreaterOrEqual 30
        $first.Count | Should -BeLessThan 200 -Because 'the run was killed before the end'

        Connect-TenantEmulator $emu
        Clear-EmulatorLog $emu
        $second = @(Sync-ProfilePhoto -All -JournalPath $journal -ErrorAction SilentlyContinue)
        $done = @($first.upn)
        @($second | Where-Object { $_.UserPrincipalName -in $done }) | Should -BeNullOrEmpty -Because 'users the killed run finished are not done again'
        $reads = @(Get-EmulatorLog $emu | Where-Object { $_.Target -like '*GetPropertiesFor*' } | ForEach-Object { [uri]::UnescapeDataString($_.Target) })
        @($done | Where-Object { $upn = $_; $reads | Where-Object { $_ -like "*$upn*" } }) | Should -BeNullOrEmpty -Because 'not even read again'

        $entries = @(Get-Content $journal | Select-Object -Skip 1 | ForEach-Object { try { $_ | ConvertFrom-Json } catch { } } | Where-Object upn)
        $entries.Count | Should -Be 200 -Because 'every user is in the journal once'
        @($entries.upn | Sort-Object -Unique).Count | Should -Be 200
        # Done once: each user that needed a sync had its PictureURL written exactly once over both runs, the
        # others never (a user synced just before the kill but not yet in the journal is checked again, found
        # InSync, and not written again).
        $written = @(Get-EmulatorUserList $emu | ForEach-Object { $u = Get-EmulatorUser $emu $_; [pscustomobject]@{ Upn = $_; PictureUrlWrites = @($u.PropertyWrites | Where-Object { $_ -eq 'PictureURL' }).Count } })
        @($written | Where-Object PictureUrlWrites -gt 1) | Should -BeNullOrEmpty -Because 'no user is synced twice'
        @($written | Where-Object PictureUrlWrites -eq 1).Count | Should -Be 160 -Because '160 users needed a sync'
        @(Get-PhotoSyncState -All | Where-Object State -ne 'InSync') | Should -BeNullOrEmpty
    }

    It 'refuses a journal written for another tenant or by another command, with one clear error' {
        $other = Join-Path $TestDrive 'fabrikam.jsonl'
        '{"profileSyncJournal":1,"tenant":"fabrikam","command":"Sync-ProfilePhoto","version":"0.2.0"}' | Set-Content $other
        { Sync-ProfilePhoto -All -JournalPath $other } | Should -Throw -ErrorId 'JournalRefused,ProfileSync.PowerShell.Commands.SyncProfilePhotoCommand' -ExpectedMessage "*written for tenant 'fabrikam'*"
        $sync = Join-Path $TestDrive 'sync.jsonl'
        '{"profileSyncJournal":1,"tenant":"contoso","command":"Sync-ProfilePhoto","version":"0.2.0"}' | Set-Content $sync
        { Get-PhotoSyncState -All -JournalPath $sync } | Should -Throw -ErrorId 'JournalRefused,*' -ExpectedMessage '*written by Sync-ProfilePhoto*'
        $foreign = Join-Path $TestDrive 'foreign.jsonl'
        'UserPrincipalName,Done' | Set-Content $foreign
        { Get-PhotoSyncState -All -JournalPath $foreign } | Should -Throw -ErrorId 'JournalRefused,*'
    }
}

Describe 'A CSV of 100,000 rows' {
    BeforeAll {
        $script:emu = Start-ConnectedEmulator $DemoScenario
    }
    AfterAll { Stop-TenantEmulator $emu }

    It 'is streamed: results come out while rows still come in, each user is done once, bad rows are errors' {
        $users = @(Get-EmulatorUserList $emu)
        $script:produced = 0
        $firstResultAfter = $null
        $csv = Join-Path $TestDrive 'big.csv'
        # A real file, read by Import-Csv as a runbook would: every 1,000th row is malformed.
        $writer = [IO.StreamWriter]::new($csv)
        $writer.WriteLine('UserPrincipalName,Department')
        for ($i = 0; $i -lt 100000; $i++) {
            $upn = if ($i % 1000 -eq 999) { "not-a-upn-$i" } else { $users[$i % $users.Count] }
            $writer.WriteLine(('"{0}",D{1}' -f $upn.Replace('"', '""'), ($i % 7)))
        }
        $writer.Dispose()
        $errs = $null
        $results = Import-Csv $csv | ForEach-Object { $script:produced++; $_ } |
            Get-PhotoSyncState -ErrorAction SilentlyContinue -ErrorVariable errs |
            ForEach-Object { if ($null -eq $firstResultAfter) { $firstResultAfter = $script:produced }; $_ }
        $script:produced | Should -Be 100000
        $firstResultAfter | Should -BeLessThan 50000 -Because 'results are written while rows are still being read'
        @($results).Count | Should -Be $users.Count -Because 'each user is checked once'
        @($errs | Where-Object { $_.FullyQualifiedErrorId -like 'InvalidUserPrincipalName,*' }).Count | Should -Be 100
    }
}
