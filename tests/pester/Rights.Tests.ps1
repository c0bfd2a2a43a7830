# Issue 12: SharePoint refuses other users' profile writes in two shapes (403 Access denied, 500 "managing
# your own data"). Each cmdlet that writes proves the right first and stops with ONE ProfileWriteRefused
# error that names what to grant, before any file is uploaded or any photo changed.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:emu = Start-ConnectedEmulator
    $script:Photo = Join-Path $TestDrive 'teal.jpg'
    [IO.File]::WriteAllBytes($Photo, (Invoke-WebRequest -Uri ([uri]::new($emu.Control, 'samples/photo?seed=9&format=jpeg&side=300'))).Content)
    function Set-EmulatorRights([string] $ProfileWrite) {
        Invoke-RestMethod -Method Post -Uri ([uri]::new($emu.Control, "rights?profileWrite=$ProfileWrite")) | Out-Null
    }
    function Get-State {
        [pscustomobject]@{
            Files    = @(Get-EmulatorFile $emu | ForEach-Object Path) -join '|'
            Profiles = @(Get-EmulatorUserList $emu | ForEach-Object { $u = Get-EmulatorUser $emu $_; "$_=$($u.Profile.PictureURL);$($u.Profile.'SPS-PicturePlaceholderState');$(@($u.PhotoWrites).Count)" }) -join '|'
        }
    }
}
AfterAll {
    Stop-TenantEmulator $emu
}

Describe 'A sign-in that may not write other users'' profiles' {
    BeforeEach { Clear-EmulatorLog $emu }
    AfterEach { Set-EmulatorRights allowed }

    It '<Command> stops with one ProfileWriteRefused (<Shape> shape), uploads nothing and changes nothing' -ForEach @(
        @{ Command = 'Sync-ProfilePhoto'; Shape = '403' }, @{ Command = 'Sync-ProfilePhoto'; Shape = '500' }
        @{ Command = 'Set-ProfilePhoto'; Shape = '403' }, @{ Command = 'Set-ProfilePhoto'; Shape = '500' }
        @{ Command = 'Remove-ProfilePhoto'; Shape = '403' }, @{ Command = 'Remove-ProfilePhoto'; Shape = '500' }
    ) {
        $before = Get-State
        Set-EmulatorRights $Shape
        $users = @(Get-EmulatorUserList $emu)
        $errs = @()
        try {
            switch ($Command) {
                'Sync-ProfilePhoto' { $null = $users | Sync-ProfilePhoto -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable +errs }
                'Set-ProfilePhoto' { $null = $users | ForEach-Object { [pscustomobject]@{ UserPrincipalName = $_; Path = $Photo } } | Set-ProfilePhoto -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable +errs }
                'Remove-ProfilePhoto' { $null = $users | Remove-ProfilePhoto -Force -ErrorAction SilentlyContinue -ErrorVariable +errs }
            }
        }
        catch { $errs += $_ }
        $refused = @($errs | Where-Object { $_.FullyQualifiedErrorId -like 'ProfileWriteRefused,*' })
        $refused.Count | Should -Be 1 -Because "one error for the whole run ($(@($errs | ForEach-Object FullyQualifiedErrorId) -join '; '))"
        $refused[0].ErrorDetails.RecommendedAction | Should -Match 'User\.ReadWrite\.All'
        $refused[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        @(Get-EmulatorLog $emu | Where-Object { $_.Target -like '*AddUsingPath*' }) | Should -BeNullOrEmpty -Because 'nothing is uploaded'
        (Get-State).Files | Should -Be $before.Files
        (Get-State).Profiles | Should -Be $before.Profiles -Because 'profiles and Exchange photos are as they were'
    }

    It 'the next command in the same session, with the right back, checks every user' {
        Set-EmulatorRights 403
        try { $null = Get-EmulatorUserList $emu | Sync-ProfilePhoto -Confirm:$false -ErrorAction SilentlyContinue } catch { }
        Set-EmulatorRights allowed
        $states = @(Get-EmulatorUserList $emu | Get-PhotoSyncState -ErrorAction SilentlyContinue)
        $states.Count | Should -Be @(Get-EmulatorUserList $emu).Count
    }
}
