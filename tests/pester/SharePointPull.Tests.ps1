# Issue 12: SharePoint's own pull (facts doc, section 5b) points PictureURL at thumbnails of its own and
# leaves the set ProfileSync wrote where it was. A bulk sync (it has the library listing) recycles exactly
# those leftover sets, under ShouldProcess, and counts them; it never touches a file it did not write.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $scenario = Join-Path $TestDrive 'pull.json'
    @{ tenant = 'contoso'; population = @{ count = 30; upnFormat = 'pull{0:00}@contoso.com'; seed = 41; mix = @('stale') } } | ConvertTo-Json -Depth 4 | Set-Content $scenario
    $script:emu = Start-ConnectedEmulator $scenario
    function Invoke-SharePointPull([string] $Upn) {
        Invoke-RestMethod -Method Post -Uri ([uri]::new($emu.Control, "users/$([uri]::EscapeDataString($Upn))/pull")) | Out-Null
    }
    function Get-Files { @(Get-EmulatorFile $emu | ForEach-Object Path | Sort-Object) }
}
AfterAll {
    Stop-TenantEmulator $emu
}

Describe 'After SharePoint''s own pull' {
    BeforeAll {
        $first = @(Sync-ProfilePhoto -All -Confirm:$false)
        $script:Users = @($first.UserPrincipalName | Sort-Object)
        $script:Pulled = $Users | Select-Object -First 10
        $script:OldSets = @{}
        foreach ($upn in $Pulled) {
            $old = ([uri](Get-EmulatorUser $emu $upn).Profile.PictureURL).AbsolutePath
            $script:OldSets[$upn] = [uri]::UnescapeDataString($old) -replace '_MThumb\.jpg$', ''
            Invoke-SharePointPull $upn
        }
        $script:FilesBefore = Get-Files
    }

    It 'the pulled users point at SharePoint''s own thumbnails, and the old sets are still there' {
        foreach ($upn in $Pulled) {
            (Get-EmulatorUser $emu $upn).Profile.PictureURL | Should -Not -Match '_[0-9a-f]{12}_MThumb\.jpg$'
            $FilesBefore | Should -Contain ($OldSets[$upn] + '_MThumb.jpg')
        }
    }

    It '-WhatIf recycles nothing' {
        $null = Sync-ProfilePhoto -All -WhatIf 6>$null
        Get-Files | Should -Be $FilesBefore
    }

    It 'one bulk sync gives them Skipped and recycles exactly their old ProfileSync sets, nothing else' {
        $info = $null
        $results = @(Sync-ProfilePhoto -All -Confirm:$false -InformationVariable info)
        $byUser = @{}; foreach ($r in $results) { $byUser[$r.UserPrincipalName] = $r }
        foreach ($upn in $Pulled) {
            $byUser[$upn].Action | Should -Be 'Skipped' -Because "$upn shows the same photo, SharePoint's copy ($($byUser[$upn].Reason))"
            $byUser[$upn].LeftoverSetsRecycled | Should -Be 1
        }
        foreach ($upn in $Users | Where-Object { $_ -notin $Pulled }) { $byUser[$upn].LeftoverSetsRecycled | Should -Be 0 }
        $gone = @($FilesBefore | Where-Object { $_ -notin (Get-Files) })
        $expected = @($Pulled | ForEach-Object { $set = $OldSets[$_]; "$($set)_SThumb.jpg", "$($set)_MThumb.jpg", "$($set)_LThumb.jpg" } | Sort-Object)
        ($gone | Sort-Object) | Should -Be $expected
        # The one new file: the remembered verdicts (the pulled users' SharePoint copies were compared and found the same).
        @(Get-Files | Where-Object { $_ -notin $FilesBefore }) | Should -Be @('/User Photos/ProfileSync-verdicts.json.gz') -Because 'no thumbnail was written'
        ($info | Where-Object Tags -contains Summary).MessageData.LeftoverSetsRecycled | Should -Be 10
    }

    It 'a second bulk sync finds nothing left to recycle' {
        $results = @(Sync-ProfilePhoto -All -Confirm:$false)
        @($results | Where-Object LeftoverSetsRecycled -gt 0) | Should -BeNullOrEmpty
    }
}
