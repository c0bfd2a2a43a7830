BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    Import-Module (Join-Path $RepoRoot 'tests/WebDriver.psm1') -Force
    $script:Artifacts = Join-Path $RepoRoot 'out/test-results'
    New-Item -ItemType Directory -Force $Artifacts | Out-Null

    # The demo tenant, plus users whose SharePoint names are markup: the report must show them as text.
    $scenario = Get-Content $DemoScenario -Raw | ConvertFrom-Json
    $scenario.users += [pscustomobject]@{ upn = 'xss.img@contoso.com'; displayName = '<img src=x onerror=alert(1)>'; photo = @{ seed = 40 }; sharePoint = 'stale' }
    $scenario.users += [pscustomobject]@{ upn = 'xss.script@contoso.com'; displayName = '</script><script>alert(2)</script>'; photo = @{ seed = 41 }; sharePoint = 'none' }
    $script:ScenarioPath = Join-Path $TestDrive 'report-tenant.json'
    $scenario | ConvertTo-Json -Depth 8 | Set-Content $ScenarioPath
    $script:emu = Start-ConnectedEmulator $ScenarioPath
    $script:States = @(Get-PhotoSyncState -UserPrincipalName (Get-EmulatorUserList $emu) -ErrorAction SilentlyContinue)
    $script:Report = Join-Path $TestDrive 'report.html'
    $script:File = $States | Export-PhotoSyncReport -Path $Report -PassThru
}
AfterAll { Stop-TenantEmulator $emu }

Describe 'Export-PhotoSyncReport: the HTML file' {
    It 'is one self-contained file: photos embedded, nothing loaded from anywhere, markup escaped' {
        $File.Length | Should -BeGreaterThan 0
        $html = Get-Content $Report -Raw
        $html | Should -Match '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; img-src data:;'
        $html | Should -Not -Match '(src|href)\s*=\s*["'']?(https?:)?//' -Because 'no resource comes from the network'
        $html | Should -Not -Match '<img src=x' -Because 'a display name is never markup'
        $html | Should -Not -Match '<script>alert' -Because 'a display name cannot close the data block'
        ([regex]::Matches($html, '"x":"/9j/')).Count | Should -BeGreaterThan 30 -Because 'Exchange photos are embedded as JPEG data'
        ([regex]::Matches($html, '"p":"/9j/')).Count | Should -BeGreaterThan 10 -Because 'SharePoint photos are embedded too'
    }

    It 'stays small: under 5 KB per user with both photos (about 3 MB per 1,000 users)' {
        $perUser = $File.Length / $States.Count
        $perUser | Should -BeLessThan 5120
        Set-Content (Join-Path $Artifacts 'report-size.txt') "$($States.Count) users, $($File.Length) bytes, $([math]::Round($perUser)) bytes per user"
    }

    It 'writes a CSV whose cells never start a formula, and refuses what is not a result' {
        $csv = Join-Path $TestDrive 'report.csv'
        $errs = $null
        @('=1+1') + $States | Export-PhotoSyncReport -Path $csv -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ReportInputNotSupported,*'
        $rows = Import-Csv $csv
        $rows.Count | Should -Be $States.Count
        ($rows | Where-Object UserPrincipalName -eq 'xss.img@contoso.com').DisplayName | Should -Be '<img src=x onerror=alert(1)>'
        { $States | Export-PhotoSyncReport -Path $csv -NoClobber -ErrorAction Stop } | Should -Throw -ErrorId 'ReportNotWritten*'
    }

    It '-WhatIf writes no file; -NoPhotos sends no request' {
        $states | Export-PhotoSyncReport -Path (Join-Path $TestDrive 'whatif.html') -WhatIf
        Test-Path (Join-Path $TestDrive 'whatif.html') | Should -BeFalse
        Clear-EmulatorLog $emu
        $States | Export-PhotoSyncReport -Path (Join-Path $TestDrive 'nophotos.html') -NoPhotos
        @(Get-EmulatorLog $emu) | Should -BeNullOrEmpty
        Get-Content (Join-Path $TestDrive 'nophotos.html') -Raw | Should -Match 'photos not shown \(-NoPhotos\)'
    }
}

Describe 'Export-PhotoSyncReport: what it takes and what it refuses' {
    BeforeAll {
        $photo = Join-Path $TestDrive 'new-photo.jpg'
        [IO.File]::WriteAllBytes($photo, (Invoke-WebRequest -Uri ([uri]::new($emu.Control, 'samples/photo?seed=77&format=jpeg'))).Content)
        $script:Changes = @(
            'user003@contoso.com' | Set-ProfilePhoto -Path $photo -Confirm:$false
            'user004@contoso.com', 'left.company@contoso.com' | Remove-ProfilePhoto -Confirm:$false -ErrorAction SilentlyContinue
        )
    }

    It 'takes Set-/Remove-ProfilePhoto results: their action, sides and reason, and the photos after the change' {
        $Changes.Count | Should -Be 3
        $csv = Join-Path $TestDrive 'changes.csv'
        $errs = $null
        $Changes | Export-PhotoSyncReport -Path $csv -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        $rows = @(Import-Csv $csv)
        $rows.Count | Should -Be 3
        $set = $rows | Where-Object UserPrincipalName -eq 'user003@contoso.com'
        $set.Operation, $set.Action, $set.Exchange, $set.SharePoint | Should -Be 'Set', 'Updated', 'Updated', 'Updated'
        $failed = $rows | Where-Object UserPrincipalName -eq 'left.company@contoso.com'
        $failed.Action, $failed.ErrorId | Should -Be 'Failed', 'UserNotFound'
        $failed.Reason | Should -Be ($Changes | Where-Object UserPrincipalName -eq 'left.company@contoso.com').Reason

        $html = Join-Path $TestDrive 'changes.html'
        $Changes | Export-PhotoSyncReport -Path $html
        $text = Get-Content $html -Raw
        $text | Should -Match '"a":"Set Updated"'
        $text | Should -Match '"a":"Remove Removed"'
        $text | Should -Match 'Actions: Remove Failed 1 · Remove Removed 1 · Set Updated 1'
        $setRow = [regex]::Match($text, '\{"u":"user003@contoso.com"[^}]*\}').Value
        $setRow | Should -Match '"x":"/9j/' -Because 'the Exchange photo after the change is shown'
        $setRow | Should -Match '"p":"/9j/' -Because 'the SharePoint photo after the change is shown'
    }

    It 'refuses a -Path that is neither .html nor .csv, before reading any input' {
        $txt = Join-Path $TestDrive 'x.txt'
        { $States | Export-PhotoSyncReport -Path $txt -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidParameter*' -ExpectedMessage '*neither .html nor .csv*'
        Test-Path $txt | Should -BeFalse
        $States | Select-Object -First 2 | Export-PhotoSyncReport -Path (Join-Path $TestDrive 'y.txt') -Format Csv
        @(Import-Csv (Join-Path $TestDrive 'y.txt')).Count | Should -Be 2 -Because '-Format says what to write whatever the extension'
    }

    It 'writes no file when no input was a result' {
        $path = Join-Path $TestDrive 'refused.html'
        $warnings = $null
        'adele.vance@contoso.com', (Get-Date) | Export-PhotoSyncReport -Path $path -ErrorAction SilentlyContinue -WarningVariable warnings -WarningAction SilentlyContinue
        Test-Path $path | Should -BeFalse
        "$warnings" | Should -Match 'No report written.*none of the 2 input'
    }
}

Describe 'Export-PhotoSyncReport in headless Chromium' {
    BeforeAll {
        $script:Browser = Start-HeadlessChromium
        Open-Page $Browser ([uri]::new($Report).AbsoluteUri)
        $script:Expected = @{}
        foreach ($group in $States | Group-Object { "$($_.State)" }) { $Expected[$group.Name] = $group.Count }
    }
    AfterAll { if ($Browser) { Stop-HeadlessChromium $Browser } }

    It 'shows the count of every state, and all users at first' {
        Get-ElementText $Browser (Find-Element $Browser '#count-All') | Should -Be "$($States.Count)"
        foreach ($state in 'InSync', 'Different', 'MissingInSharePoint', 'NoSourcePhoto', 'NotFound', 'Error') {
            Get-ElementText $Browser (Find-Element $Browser "#count-$state") | Should -Be "$([int]$Expected[$state])" -Because "$state users"
        }
        Get-ElementText $Browser (Find-Element $Browser '#shown') | Should -Be "$($States.Count) users"
        @(Find-Elements $Browser '#rows tr').Count | Should -Be ([math]::Min(100, $States.Count))
        Save-Screenshot $Browser (Join-Path $Artifacts 'report.png')
    }

    It 'filters by state and shows both photos of each user side by side' {
        Invoke-Click $Browser (Find-Element $Browser 'button[data-state="Different"]')
        $rows = @(Find-Elements $Browser '#rows tr')
        $rows.Count | Should -Be $Expected['Different']
        Invoke-PageScript $Browser "return Array.from(document.querySelectorAll('#rows tr')).filter(r => r.getAttribute('data-state') !== 'Different').length" | Should -Be 0
        # Photos decoded in the page: every Exchange cell of a Different user that has a photo shows a 48-pixel image.
        $loaded = Invoke-PageScript $Browser "return Array.from(document.querySelectorAll('#rows tr td:first-child img')).map(i => i.complete && i.naturalWidth === 48)"
        @($loaded).Count | Should -BeGreaterThan 5
        @($loaded | Where-Object { -not $_ }) | Should -BeNullOrEmpty
        Save-Screenshot $Browser (Join-Path $Artifacts 'report-different.png')
    }

    It 'searches names and UPNs; a display name of markup shows as text and runs nothing' {
        Invoke-Click $Browser (Find-Element $Browser 'button[data-state="All"]')
        Send-Keys $Browser (Find-Element $Browser '#search') 'xss'
        @(Find-Elements $Browser '#rows tr').Count | Should -Be 2
        $names = @(Find-Elements $Browser '#rows td.user') | ForEach-Object { (Get-ElementText $Browser $_) -split "`n" | Select-Object -First 1 }
        $names | Should -Contain '<img src=x onerror=alert(1)>'
        $names | Should -Contain '</script><script>alert(2)</script>'
        Invoke-PageScript $Browser "return document.querySelectorAll('img[src=""x""]').length + document.querySelectorAll('script').length" | Should -Be 2 -Because 'only the data block and the report''s own script exist'
        Save-Screenshot $Browser (Join-Path $Artifacts 'report-search.png')
    }

    It 'names a row''s ErrorId once' {
        Invoke-PageScript $Browser "var s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input')); return 0" | Out-Null
        Invoke-Click $Browser (Find-Element $Browser 'button[data-state="Error"]')
        $reason = Invoke-PageScript $Browser "return document.querySelector('#rows tr[data-state=""Error""] td.reason').textContent"
        $id = ($States | Where-Object State -eq Error).ErrorId
        $id | Should -Not -BeNullOrEmpty
        [regex]::Matches($reason, [regex]::Escape($id)).Count | Should -Be 1 -Because "the reason reads: $reason"
    }
}

Describe 'Export-PhotoSyncReport at 800 pixels wide' {
    BeforeAll {
        # A dry run: every row has an action (WouldUpdate is the widest word of the column).
        $dryRun = Join-Path $TestDrive 'dry-run.html'
        Get-EmulatorUserList $emu | Sync-ProfilePhoto -WhatIf -ErrorAction SilentlyContinue 6>$null | Export-PhotoSyncReport -Path $dryRun
        $script:Narrow = Start-HeadlessChromium -Width 800 -Height 900
        Open-Page $Narrow ([uri]::new($dryRun).AbsoluteUri)
    }
    AfterAll { if ($Narrow) { Stop-HeadlessChromium $Narrow } }

    It 'shows the Action and Reason columns whole, with no sideways scrolling' {
        $fit = Invoke-PageScript $Narrow @"
var width = document.documentElement.clientWidth;
var cells = Array.from(document.querySelectorAll('#rows td.action, #rows td.reason, thead th'));
return { width: width, scroll: document.documentElement.scrollWidth, cells: cells.length,
         beyond: cells.filter(c => c.getBoundingClientRect().right > width + 0.5).map(c => c.textContent.slice(0, 40)) };
"@
        $fit.cells | Should -BeGreaterThan 100
        Invoke-PageScript $Narrow "return Array.from(document.querySelectorAll('#rows td.action')).filter(c => c.textContent === 'WouldUpdate').length" | Should -BeGreaterThan 10
        $fit.width | Should -BeLessOrEqual 800
        $fit.beyond | Should -BeNullOrEmpty
        $fit.scroll | Should -BeLessOrEqual $fit.width
        Save-Screenshot $Narrow (Join-Path $Artifacts 'report-800.png')
    }
}
