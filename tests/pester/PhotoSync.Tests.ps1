BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Get-PhotoSyncState against the emulator' {
    BeforeAll {
        $script:emu = Start-ConnectedEmulator $DemoScenario
        $script:states = @{}
        $script:errors = $null
        $DemoStates.Keys | Get-PhotoSyncState -ErrorAction SilentlyContinue -ErrorVariable script:errors |
            ForEach-Object { $script:states[$_.UserPrincipalName] = $_ }
    }
    AfterAll { Stop-TenantEmulator $emu }

    It '<upn> is <state>' -ForEach @($DemoStates.Keys | ForEach-Object { @{ upn = $_; state = $DemoStates[$_] } }) {
        $states[$upn].State | Should -Be $state
    }

    It 'returns typed results with the Exchange photo and the SharePoint picture' {
        $r = $states["o'neil@contoso.com"]
        # The core lives in the module's private load context: its types are checked by name, not by a [type] literal.
        $r.GetType().FullName | Should -Be 'ProfileSync.Core.Sync.PhotoSyncState'
        $r.ExchangePhotoETag | Should -Match '^"[0-9A-F]{8}"$'
        $r.ExchangePhotoWidth | Should -Be 648
        $r.ExchangePhotoHeight | Should -Be 648
        $r.SharePointPictureUrl | Should -Match '_MThumb\.jpg$'
        $r.Distance | Should -BeGreaterThan 10
        $states['adele.vance@contoso.com'].Distance | Should -BeLessOrEqual 10
    }

    It 'writes a non-terminating error with a stable id and the user as target for NotFound and Error users' {
        $byTarget = @{}
        $errors | ForEach-Object { $byTarget[$_.TargetObject] = $_ }
        $byTarget['left.company@contoso.com'].FullyQualifiedErrorId | Should -Match '^UserNotFound,'
        $byTarget['left.company@contoso.com'].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        # No profile yet needs no action: a NotFound result, no error record unless asked for (below).
        $byTarget.ContainsKey('no.profile@contoso.com') | Should -BeFalse
        $states['no.profile@contoso.com'].ErrorId | Should -Be 'SharePointProfileNotFound'
        $byTarget['broken.photo@contoso.com'].FullyQualifiedErrorId | Should -Match '^PhotoUnreadable,'
        $byTarget['broken.photo@contoso.com'].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        $states['left.company@contoso.com'].Reason | Should -Match 'left.company@contoso.com'
    }

    It 'reads nothing but GETs, sends each token only to its own service and decorates every request' {
        $log = Get-EmulatorLog $emu
        $log | Where-Object IsWrite | Should -BeNullOrEmpty
        $log | Where-Object { -not $_.Authorized } | Should -BeNullOrEmpty
        $log | Where-Object CarriedOtherServiceToken | Should -BeNullOrEmpty
        $log | Where-Object { $_.UserAgent -notmatch '^NONISV\|ProfileSync\|ProfileSync/\d+\.\d+\.\d+$' } | Should -BeNullOrEmpty
    }

    It 'binds users from CSV-like objects by every alias' {
        foreach ($column in 'UserPrincipalName', 'UPN', 'Mail', 'Email', 'Identity', 'UserId') {
            $r = [pscustomobject]@{ $column = 'adele.vance@contoso.com' } | Get-PhotoSyncState
            $r.State | Should -Be 'InSync' -Because "the column $column binds"
        }
    }

    It 'counts users without a SharePoint profile in one warning; -ErrorAction Continue writes an error for each' {
        $warn = $null; $errs = $null
        $r = 'adele.vance@contoso.com', 'no.profile@contoso.com' | Get-PhotoSyncState -WarningVariable warn -ErrorVariable errs 3>$null
        ($r | Where-Object UserPrincipalName -eq 'no.profile@contoso.com').State | Should -Be 'NotFound'
        $errs | Should -BeNullOrEmpty
        $warn | Should -HaveCount 1
        "$warn" | Should -Match '^1 user has no SharePoint profile yet'

        $r = 'no.profile@contoso.com' | Sync-ProfilePhoto -ErrorAction Continue -ErrorVariable errs -Confirm:$false 2>$null 3>$null
        $r.Action | Should -Be 'Skipped'
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Match '^SharePointProfileNotFound,'
        $errs[0].Exception.Message | Should -Not -BeNullOrEmpty
        $errs[0].ErrorDetails.Message | Should -Match '^no\.profile@contoso\.com \(row 1\): '
    }

    It 'checks a user named twice in one run once' {
        $r = 'adele.vance@contoso.com', 'ADELE.VANCE@contoso.com' | Get-PhotoSyncState
        $r | Should -HaveCount 1
    }
}

Describe 'Sync-ProfilePhoto -WhatIf' {
    BeforeAll {
        $script:emu = Start-ConnectedEmulator $DemoScenario
    }
    AfterAll { Stop-TenantEmulator $emu }

    It 'sends no write request at all and says what it would update' {
        Clear-EmulatorLog $emu
        $results = $DemoStates.Keys | Sync-ProfilePhoto -WhatIf -ErrorAction SilentlyContinue
        (Get-EmulatorLog $emu) | Where-Object IsWrite | Should -BeNullOrEmpty
        $would = $results | Where-Object Action -eq 'WouldUpdate' | ForEach-Object UserPrincipalName | Sort-Object
        $expected = $DemoStates.Keys | Where-Object { $DemoStates[$_] -in 'Different', 'MissingInSharePoint' } | Sort-Object
        $would | Should -Be $expected
        ($results | Where-Object UserPrincipalName -eq 'adele.vance@contoso.com').Action | Should -Be 'Skipped'
    }
}

Describe 'Sync-ProfilePhoto end to end' {
    BeforeAll {
        $script:emu = Start-ConnectedEmulator $DemoScenario
        $script:allUsers = Get-EmulatorUserList $emu
    }
    AfterAll { Stop-TenantEmulator $emu }

    It 'syncs a CSV of good and bad rows: bad rows are errors naming the row, the rest go on' {
        $csv = Join-Path $TestDrive 'users.csv'
        @(
            'UserPrincipalName,Department'
            "o'neil@contoso.com,Sales"
            ',Empty'
            'not-a-upn,Broken'
            'left.company@contoso.com,Gone'
            'jürgen@contoso.com,R&D'
            '"jane_fabrikam.com#EXT#@contoso.onmicrosoft.com",Guest'
            'adele.vance@contoso.com,IT'
        ) | Set-Content -Path $csv -Encoding utf8
        $errs = $null
        $results = Import-Csv $csv | Sync-ProfilePhoto -ErrorAction SilentlyContinue -ErrorVariable errs
        $byUser = @{}; $results | ForEach-Object { $byUser[$_.UserPrincipalName] = $_ }
        $byUser["o'neil@contoso.com"].Action | Should -Be 'Updated'
        $byUser['jürgen@contoso.com'].Action | Should -Be 'Updated'
        $byUser['jane_fabrikam.com#EXT#@contoso.onmicrosoft.com'].Action | Should -Be 'Updated'
        $byUser['adele.vance@contoso.com'].Action | Should -Be 'Skipped'
        $byUser['left.company@contoso.com'].Action | Should -Be 'Skipped'
        $byUser['left.company@contoso.com'].StateBefore | Should -Be 'NotFound'

        $ids = $errs | ForEach-Object { "$($_.FullyQualifiedErrorId.Split(',')[0])|$($_.TargetObject)" } | Sort-Object
        $ids | Should -Be @('InvalidUserPrincipalName|', 'InvalidUserPrincipalName|not-a-upn', 'UserNotFound|left.company@contoso.com')
        ($errs | Where-Object TargetObject -eq 'not-a-upn').CategoryInfo.Category | Should -Be 'InvalidArgument'
        ($errs | Where-Object TargetObject -eq 'not-a-upn').Exception.Message | Should -Match "'not-a-upn' is not a user principal name"
        # Bad rows name their row and carry it; results carry theirs, so the file's order comes back.
        ($errs | Where-Object TargetObject -eq 'not-a-upn').Exception.Message | Should -Match '^Row 3: '
        ($errs | Where-Object TargetObject -eq 'not-a-upn').Exception.InputIndex | Should -Be 3
        ($errs | Where-Object { $_.TargetObject -in '', $null }).Exception.InputIndex | Should -Be 2
        ($errs | Where-Object TargetObject -eq 'left.company@contoso.com').ErrorDetails.Message | Should -Match '^left\.company@contoso\.com \(row 4\): '
        ($results | Sort-Object InputIndex).InputIndex | Should -Be @(1, 4, 5, 6, 7)
        ($results | Sort-Object InputIndex).UserPrincipalName | Should -Be @("o'neil@contoso.com", 'left.company@contoso.com', 'jürgen@contoso.com', 'jane_fabrikam.com#EXT#@contoso.onmicrosoft.com', 'adele.vance@contoso.com')
    }

    It 'takes Entra object ids in a UserId column: each read once for its UPN, an unknown id is UserNotFound naming its row' {
        $csv = Join-Path $TestDrive 'ids.csv'
        $unknown = [guid]::NewGuid().ToString()
        @(
            'UserId,Department'
            "$((Get-EmulatorUser $emu 'megan.bowen@contoso.com').Id),Sales"
            "$unknown,Gone"
            'adele.vance@contoso.com,IT'
        ) | Set-Content -Path $csv -Encoding utf8
        $errs = $null
        $states = @(Import-Csv $csv | Get-PhotoSyncState -ErrorAction SilentlyContinue -ErrorVariable errs | Sort-Object InputIndex)
        $states.InputIndex | Should -Be @(1, 2, 3)
        $states[0].UserPrincipalName | Should -Be 'megan.bowen@contoso.com'
        $states[0].State | Should -Be 'InSync'
        $states[1].State | Should -Be 'NotFound'
        $states[1].ErrorId | Should -Be 'UserNotFound'
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Match '^UserNotFound,'
        $errs[0].ErrorDetails.Message | Should -Match "^$unknown \(row 2\): Graph knows no user with the object id"
        $errs[0].ErrorDetails.RecommendedAction | Should -Match 'object id'
    }

    It 'stops with one error naming the accepted columns when a CSV has no user column at all' {
        $csv = Join-Path $TestDrive 'nocolumn.csv'
        @('Login,Department', 'adele.vance@contoso.com,IT', 'jürgen@contoso.com,R&D') | Set-Content -Path $csv -Encoding utf8
        Clear-EmulatorLog $emu
        $thrown = $null
        try { $null = Import-Csv $csv | Get-PhotoSyncState -ErrorAction SilentlyContinue } catch { $thrown = $_ }
        $thrown.FullyQualifiedErrorId | Should -Be 'NoUserColumn,ProfileSync.PowerShell.Commands.GetPhotoSyncStateCommand'
        $thrown.Exception.Message | Should -Match 'UserPrincipalName, UPN, Mail, Email, Identity, UserId'
        $thrown.ErrorDetails.RecommendedAction | Should -Match 'Select-Object'
        @(Get-EmulatorLog $emu) | Should -BeNullOrEmpty -Because 'nothing was sent'
    }

    It 'leaves the awkward names InSync afterwards, by the stamp and without downloading their Exchange photo' {
        Clear-EmulatorLog $emu
        $r = "o'neil@contoso.com", 'jürgen@contoso.com', 'jane_fabrikam.com#EXT#@contoso.onmicrosoft.com' | Get-PhotoSyncState
        $r | ForEach-Object { $_.State | Should -Be 'InSync'; $_.ComparedBy | Should -Be 'Stamp' }
        (Get-EmulatorLog $emu) | Where-Object { $_.Service -eq 'graph' -and $_.Target -like '*$value' } | Should -BeNullOrEmpty
    }

    It 'writes the profile only after the thumbnails, and points it at files that exist' {
        $user = Get-EmulatorUser $emu 'jürgen@contoso.com'
        $user.Profile.'SPS-PicturePlaceholderState' | Should -Be '0'
        $user.Profile.'SPS-PictureExchangeSyncState' | Should -Be '1'
        $path = [uri]::UnescapeDataString(([uri]$user.Profile.PictureURL).AbsolutePath)
        $files = (Get-EmulatorFile $emu).Path
        foreach ($suffix in '_SThumb.jpg', '_MThumb.jpg', '_LThumb.jpg') { $files | Should -Contain ($path -replace '_MThumb\.jpg$', $suffix) }
    }

    It 'brings every user with a usable Exchange photo InSync, and a rerun changes nothing' {
        $first = $allUsers | Sync-ProfilePhoto -ErrorAction SilentlyContinue
        ($first | Where-Object Action -eq 'Failed').UserPrincipalName | Should -Be @('broken.photo@contoso.com')
        $after = $allUsers | Get-PhotoSyncState -ErrorAction SilentlyContinue
        $after | Where-Object { $_.State -in 'Different', 'MissingInSharePoint' } | Should -BeNullOrEmpty
        Clear-EmulatorLog $emu
        $second = $allUsers | Sync-ProfilePhoto -ErrorAction SilentlyContinue
        $second | Where-Object Action -eq 'Updated' | Should -BeNullOrEmpty
        (Get-EmulatorLog $emu) | Where-Object IsWrite | Should -BeNullOrEmpty
    }

    It 'rewrites an InSync user with -Force' {
        (Sync-ProfilePhoto 'adele.vance@contoso.com' -Force).Action | Should -Be 'Updated'
        (Get-PhotoSyncState 'adele.vance@contoso.com').ComparedBy | Should -Be 'Stamp'
    }

    It 'refuses thumbnail sizes that are out of order with a terminating error' {
        { Sync-ProfilePhoto 'adele.vance@contoso.com' -ThumbnailSize 200, 72, 48 } | Should -Throw -ErrorId 'InvalidParameter,ProfileSync.PowerShell.Commands.SyncProfilePhotoCommand'
    }
}

Describe 'Secrets stay secret' {
    BeforeAll {
        $script:emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $DemoScenario
    }
    AfterAll { Stop-TenantEmulator $emu }

    It 'no stream of any cmdlet carries a token, even with -Verbose -Debug' {
        # A certificate sign-in that cannot reach Entra ID from here, and one with a wrong password: neither may echo the password.
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=ProfileSync test', $rsa, 'SHA256', [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $pfx = Join-Path $TestDrive 'app.pfx'
        $journal = Join-Path $TestDrive 'secrets-journal.jsonl'
        $password = 'Pfx-Secret-7d1e!'
        [IO.File]::WriteAllBytes($pfx, $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddDays(1)).Export('Pfx', $password))
        $all = & {
            Connect-TenantEmulator $emu -PassThru -Verbose -Debug
            Get-ProfileSyncConnection -Verbose -Debug | Format-List * | Out-String
            'adele.vance@contoso.com', "o'neil@contoso.com", 'left.company@contoso.com', 'bad' | Get-PhotoSyncState -Verbose -Debug -ErrorAction Continue
            'jürgen@contoso.com', 'broken.photo@contoso.com' | Sync-ProfilePhoto -Verbose -Debug -ErrorAction Continue -Confirm:$false -JournalPath $journal
            foreach ($given in $password, 'wrong-password') {
                try { Connect-ProfileSync -TenantName contoso -ClientId '00000000-0000-0000-0000-0000000000aa' -CertificatePath $pfx -CertificatePassword (ConvertTo-SecureString $given -AsPlainText -Force) -Verbose -Debug }
                catch { $_ | Format-List * -Force | Out-String; $_.Exception | Format-List * -Force | Out-String }
            }
            Disconnect-ProfileSync -Verbose -Debug
        } *>&1 | Out-String -Width 500
        $all | Should -Not -BeNullOrEmpty
        $all | Should -Match 'SignInFailed' -Because 'the certificate sign-in was tried'
        $all | Should -Match 'password is wrong'
        $all | Should -Not -Match ([regex]::Escape($emu.GraphToken))
        $all | Should -Not -Match ([regex]::Escape($emu.SharePointToken))
        $all | Should -Not -Match ([regex]::Escape($password))
        $all | Should -Not -Match 'wrong-password'
        # The only file ProfileSync writes is a journal: it holds user names and outcomes, nothing secret.
        $written = Get-Content $journal -Raw
        $written | Should -Match 'jürgen@contoso.com'
        foreach ($secret in $emu.GraphToken, $emu.SharePointToken, $password) { $written | Should -Not -Match ([regex]::Escape($secret)) }
        (Get-PSCallStack | Out-String) | Should -Not -Match ([regex]::Escape($emu.GraphToken))
    }
}

Describe 'Whole-tenant runs (-All)' {
    BeforeAll {
        $script:emu = Start-ConnectedEmulator $DemoScenario
    }
    AfterAll { Stop-TenantEmulator $emu }

    It 'checks every enabled member with a mailbox, and ends with a summary record' {
        $info = $null
        $all = Get-PhotoSyncState -All -ErrorAction SilentlyContinue -InformationVariable info
        # Left out: not in Graph, no mailbox, a disabled account (a shared mailbox), a guest.
        $expected = @(Get-EmulatorUserList $emu | Where-Object { $_ -notin 'left.company@contoso.com', 'no.mailbox@contoso.com', 'shared.mailbox@contoso.com', 'guest_fabrikam.com#EXT#@contoso.onmicrosoft.com' })
        ($all.UserPrincipalName | Sort-Object) | Should -Be ($expected | Sort-Object)
        $summary = $info | Where-Object { $_.Tags -contains 'Summary' }
        $summary | Should -HaveCount 1
        $summary.MessageData.Users | Should -Be $expected.Count
        $summary.MessageData.Outcomes['InSync'] | Should -Be @($all | Where-Object State -eq 'InSync').Count
        $summary.MessageData.GraphRequests | Should -BeGreaterThan 0
    }

    It 'numbers users in listing order, and counts users without a SharePoint profile in one warning instead of an error each' {
        $errs = $null; $warn = $null
        # As an admin's session is (build.ps1 runs the tests under 'Stop'): the other users' errors are written, not thrown.
        $ErrorActionPreference = 'Continue'
        $all = @(Get-PhotoSyncState -All -ErrorVariable errs -WarningVariable warn 2>$null 3>$null)
        ($all.InputIndex | Sort-Object) | Should -Be @(1..$all.Count)
        $errs | Where-Object { $_.FullyQualifiedErrorId -like 'SharePointProfileNotFound,*' } | Should -BeNullOrEmpty
        ($all | Where-Object UserPrincipalName -eq 'no.profile@contoso.com').State | Should -Be 'NotFound'
        @($warn | Where-Object { "$_" -match 'no SharePoint profile' }) | Should -HaveCount 1
    }

    It 'lists disabled accounts with -IncludeDisabled, never guests' {
        $all = @(Get-PhotoSyncState -All -IncludeDisabled -ErrorAction SilentlyContinue)
        $all.UserPrincipalName | Should -Contain 'shared.mailbox@contoso.com'
        $all.UserPrincipalName | Should -Not -Contain 'guest_fabrikam.com#EXT#@contoso.onmicrosoft.com'
        { Get-PhotoSyncState -IncludeDisabled -UserPrincipalName 'adele.vance@contoso.com' } | Should -Throw -ErrorId 'AmbiguousParameterSet,*'
    }

    It 'batches photo metadata: far fewer Graph requests than users' {
        Clear-EmulatorLog $emu
        $null = Get-PhotoSyncState -All -ErrorAction SilentlyContinue
        $log = Get-EmulatorLog $emu
        $items = @($log | Where-Object Service -eq 'graph-batch-item' | Where-Object Target -like '*/photo').Count
        $batches = @($log | Where-Object { $_.Service -eq 'graph' -and $_.Target -like '*$batch' }).Count
        $items | Should -BeGreaterOrEqual 49
        $batches | Should -BeLessOrEqual ([math]::Ceiling($items / 20) + 2)
    }

    It 'syncs the whole tenant with -All, and a second run writes nothing' {
        $first = Sync-ProfilePhoto -All -ErrorAction SilentlyContinue
        @($first | Where-Object Action -eq 'Updated').Count | Should -BeGreaterThan 20
        Clear-EmulatorLog $emu
        $second = Sync-ProfilePhoto -All -ErrorAction SilentlyContinue
        $second | Where-Object Action -eq 'Updated' | Should -BeNullOrEmpty
        (Get-EmulatorLog $emu) | Where-Object IsWrite | Should -BeNullOrEmpty
        # Users ProfileSync wrote are confirmed from the library listing and the names: no thumbnail or photo download.
        $written = $first | Where-Object Action -eq 'Updated' | ForEach-Object UserPrincipalName
        $second | Where-Object { $_.UserPrincipalName -in $written } | ForEach-Object { $_.Check.ComparedBy | Should -Be 'Name' }
        # Only users SharePoint synced itself (no name token, no stamp), and the broken photo, still need their Exchange photo.
        $fingerprinted = $second | Where-Object { $_.Check.ComparedBy -eq 'Fingerprint' -or $_.Check.State -eq 'Error' } | ForEach-Object { [uri]::EscapeDataString($_.UserPrincipalName) }
        $downloads = (Get-EmulatorLog $emu) | Where-Object { $_.Service -eq 'graph' -and $_.Target -like '*/photo/$value' }
        foreach ($d in $downloads) { ($d.Target -split '/')[3] | Should -BeIn $fingerprinted }
        @($downloads).Count | Should -Be @($fingerprinted).Count
    }

    It 'does not take -All together with user names' {
        { Get-PhotoSyncState -All -UserPrincipalName a@contoso.com } | Should -Throw -ErrorId 'AmbiguousParameterSet,ProfileSync.PowerShell.Commands.GetPhotoSyncStateCommand'
    }
}
