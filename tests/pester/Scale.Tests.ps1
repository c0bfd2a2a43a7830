BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:SlowScenario = Join-Path $RepoRoot 'tests/ProfileSync.TenantEmulator/scenarios/slow.json'

    # Every user is either as it was, or fully synced: a changed PictureURL names S/M/L files that exist, with placeholder 0.
    function Assert-NoHalfWrittenUser($Emulator, $Before) {
        $files = @((Get-EmulatorFile $Emulator).Path)
        foreach ($upn in $Before.Keys) {
            $was = $Before[$upn]
            $now = (Get-EmulatorUser $Emulator $upn).Profile
            if ($now.PictureURL -eq $was.PictureURL) {
                $now.'SPS-PicturePlaceholderState' | Should -Be $was.'SPS-PicturePlaceholderState' -Because "$upn was not synced, so it is untouched"
                continue
            }
            $now.'SPS-PicturePlaceholderState' | Should -Be '0' -Because "$upn was synced"
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

    It 'stops within 2 seconds, keeps what it wrote, and leaves no user half-written' {
        $before = @{}
        foreach ($upn in Get-EmulatorUserList $emu) { $before[$upn] = (Get-EmulatorUser $emu $upn).Profile }

        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($module, $e)
                Import-Module $module
                Connect-ProfileSync -TenantName $e.Tenant -GraphEndpoint $e.Graph -MySiteHostUrl $e.MySite -SharePointAdminUrl $e.Admin `
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
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 2
        $written = @($output)
        $written.Count | Should -BeLessThan 200 -Because 'the run stopped before the end'

        # Writes that had begun finish on their own: wait until the emulator is quiet, then check every user.
        $last = -1
        do { Start-Sleep -Milliseconds 300; $count = @(Get-EmulatorLog $emu).Count; $quiet = $count -eq $last; $last = $count } until ($quiet)
        Assert-NoHalfWrittenUser $emu $before
        foreach ($r in $written | Where-Object Action -eq 'Updated') {
            (Get-EmulatorUser $emu $r.UserPrincipalName).Profile.PictureURL | Should -Be $r.PictureUrl
        }
        $ps.Dispose()
    }
}
