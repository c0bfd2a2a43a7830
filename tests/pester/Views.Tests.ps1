BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:emu = Start-ConnectedEmulator
    $users = Get-EmulatorUserList $emu
    $script:States = @($users | Get-PhotoSyncState -ErrorAction SilentlyContinue)
    $script:DryRun = @($users | Sync-ProfilePhoto -WhatIf -ErrorAction SilentlyContinue 6>$null)
    $script:Synced = @($users | Sync-ProfilePhoto -Confirm:$false -ErrorAction SilentlyContinue)
    # Set and Remove with failures whose reasons are long: a missing file, an unknown user.
    $missing = Join-Path $TestDrive 'photos-from-hr/a-folder-with-a-long-name/megan.bowen-portrait-2026.jpg'
    $script:Changes = @(
        @([pscustomobject]@{ UserPrincipalName = 'megan.bowen@contoso.com'; Path = $missing }) | Set-ProfilePhoto -Confirm:$false -ErrorAction SilentlyContinue
        'left.company@contoso.com', 'no.photo1@contoso.com', 'adele.vance@contoso.com' | Remove-ProfilePhoto -Confirm:$false -ErrorAction SilentlyContinue
    )
    $script:Checks = @(Test-ProfileSyncConnection -TestUser 'megan.bowen@contoso.com' -ReadOnly -ErrorAction SilentlyContinue)

    # The text of a table's last column, every line of it, as one string without white space: what a
    # reader can piece together however the column wraps.
    function Get-LastColumnText([string[]] $Lines) {
        $rule = [array]::FindIndex($Lines, [Predicate[string]] { param($l) $l -match '^-+( +-+)+\s*$' })
        $rule | Should -BeGreaterThan 0 -Because 'the table has a header rule'
        $start = $Lines[$rule].TrimEnd().LastIndexOf(' ') + 1
        (($Lines | Select-Object -Skip ($rule + 1)) | ForEach-Object { if ($_.Length -gt $start) { $_.Substring($start) } }) -join '' -replace '\s', ''
    }
    function Format-At120($Items) { @(($Items | Format-Table | Out-String -Width 120) -split "`r?`n") }
}
AfterAll { Stop-TenantEmulator $emu }

Describe 'Default views at 120 columns' {
    It 'Get-PhotoSyncState: every line fits and every Reason is there whole' {
        $lines = Format-At120 $States
        $lines | Where-Object Length -gt 120 | Should -BeNullOrEmpty
        $text = Get-LastColumnText $lines
        ($States.Reason | Measure-Object Length -Maximum).Maximum | Should -BeGreaterThan 100 -Because 'the tenant has long real reasons'
        foreach ($state in $States) { $text | Should -Match ([regex]::Escape(($state.Reason -replace '\s', ''))) -Because "the reason of $($state.UserPrincipalName)" }
        ($lines -join "`n") | Should -Not -Match '…'
    }

    It 'Sync-ProfilePhoto: the thumbnail a sync writes (or would write), else the error or reason, whole' {
        foreach ($results in $DryRun, $Synced) {
            $lines = Format-At120 $results
            $lines | Where-Object Length -gt 120 | Should -BeNullOrEmpty
            $text = Get-LastColumnText $lines
            foreach ($r in $results) {
                $expected = if ($r.Error) { $r.Error } elseif ($r.Action -in 'Updated', 'WouldUpdate') { $r.ThumbnailFileName } else { $r.Reason }
                $expected | Should -Not -BeNullOrEmpty -Because "$($r.UserPrincipalName) ($($r.Action)) has something to show"
                $text | Should -Match ([regex]::Escape(($expected -replace '\s', ''))) -Because "the row of $($r.UserPrincipalName)"
            }
            ($lines -join "`n") | Should -Not -Match 'http' -Because 'a URL prefix says nothing'
        }
    }

    It '-WhatIf names the thumbnail the sync then writes' {
        $would = @($DryRun | Where-Object Action -eq WouldUpdate)
        $would.Count | Should -BeGreaterThan 10
        foreach ($r in $would) {
            $r.ThumbnailFileName | Should -Match '^[0-9a-f-]{36}_[0-9a-f]{12}_MThumb\.jpg$'
            $written = $Synced | Where-Object UserPrincipalName -eq $r.UserPrincipalName
            $written.Action | Should -Be 'Updated'
            $written.ThumbnailFileName | Should -Be $r.ThumbnailFileName
            [uri]::UnescapeDataString($written.PictureUrl) | Should -BeLike "*/$($r.ThumbnailFileName)"
        }
    }

    It 'Set-/Remove-ProfilePhoto: every line fits and every Reason is there whole' {
        $lines = Format-At120 $Changes
        $lines | Where-Object Length -gt 120 | Should -BeNullOrEmpty
        $text = Get-LastColumnText $lines
        ($Changes.Reason | Measure-Object Length -Maximum).Maximum | Should -BeGreaterThan 100
        foreach ($c in $Changes) { $text | Should -Match ([regex]::Escape(($c.Reason -replace '\s', ''))) -Because "the reason of $($c.UserPrincipalName)" }
    }

    It 'Test-ProfileSyncConnection: every line fits and every remedy is there whole' {
        $Checks.Count | Should -BeGreaterThan 3
        $lines = Format-At120 $Checks
        $lines | Where-Object Length -gt 120 | Should -BeNullOrEmpty
        $text = Get-LastColumnText $lines
        foreach ($c in $Checks | Where-Object Remedy) { $text | Should -Match ([regex]::Escape(($c.Remedy -replace '\s', ''))) }
    }
}

Describe 'The README image of the demo table' {
    It 'shows the command the demo runs and the table it prints (docs/images/demo-table.txt, drawn by build.ps1 Images)' {
        $drawn = @((Get-Content (Join-Path $RepoRoot 'docs/images/demo-table.txt') -Raw) -split "`r?`n")
        $command = $drawn[0] -replace '^PS> ', ''
        Get-Content (Join-Path $RepoRoot 'tests/demo.ps1') -Raw | Should -Match ([regex]::Escape("'$command'")) -Because 'the demo prints and runs that command'
        $table = $States | Sort-Object State, UserPrincipalName | Format-Table | Out-String -Width 120
        ($drawn | Select-Object -Skip 1) -join "`n" | Should -Be (($table -split "`r?`n") -join "`n")
    }
}

Describe 'Format-List shows one user whole' {
    It 'a failed check: reason, ErrorId and what to do' {
        $state = $States | Where-Object State -eq Error | Select-Object -First 1
        $list = ($state | Format-List | Out-String -Width 120) -replace '\s', ''
        foreach ($text in $state.Reason, $state.ErrorId, $state.Failure.RecommendedAction, $state.SharePointPictureUrl) {
            $list | Should -Match ([regex]::Escape(($text -replace '\s', '')))
        }
    }

    It 'a sync result: reason, file name and PictureURL' {
        $result = $Synced | Where-Object Action -eq Updated | Select-Object -First 1
        $result.ThumbnailFileName | Should -Not -BeNullOrEmpty
        $list = ($result | Format-List | Out-String -Width 120) -replace '\s', ''
        foreach ($text in $result.Reason, $result.ThumbnailFileName, $result.PictureUrl) { $list | Should -Match ([regex]::Escape(($text -replace '\s', ''))) }
    }

    It 'a Remove result: both sides, reason, ErrorId and what to do' {
        $change = $Changes | Where-Object Action -eq Failed | Where-Object Operation -eq Remove | Select-Object -First 1
        $list = ($change | Format-List | Out-String -Width 120) -replace '\s', ''
        foreach ($text in $change.Reason, $change.ErrorId, $change.Failure.RecommendedAction, "Exchange:$($change.Exchange)") {
            $list | Should -Match ([regex]::Escape(($text -replace '\s', '')))
        }
    }
}
