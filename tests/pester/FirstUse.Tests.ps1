# Issue 14, "As a new admin meets it": the sign-in, connect, -WhatIf and error advice as a first-time admin meets them.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:emu = Start-ConnectedEmulator
    $script:App = '00000000-0000-0000-0000-0000000000aa'

    # Runs a script in a new pwsh whose environment is a session without any display or SSH, plus
    # $Environment: the display detection reads the process environment, so only a child can vary it.
    # The script sets fields of $result; returns them.
    function Invoke-SignInProcess([string] $Script, [hashtable] $Environment = @{}) {
        $file = Join-Path $TestDrive ("sign-in-{0}.ps1" -f [guid]::NewGuid().ToString('N'))
        Set-Content $file @"
`$result = [ordered]@{}
Import-Module '$ModulePath'
$Script
`$result | ConvertTo-Json -Depth 4 -Compress
"@
        $pwsh = Get-PwshCommandLine
        $psi = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-File', $file)) { $psi.ArgumentList.Add($a) }
        foreach ($name in 'DISPLAY', 'WAYLAND_DISPLAY', 'SSH_CONNECTION', 'SSH_CLIENT', 'SSH_TTY') { $null = $psi.Environment.Remove($name) }
        foreach ($name in $Environment.Keys) { $psi.Environment[$name] = $Environment[$name] }
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
        $process = [Diagnostics.Process]::Start($psi)
        $out = $process.StandardOutput.ReadToEndAsync(); $err = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit(120000)) { $process.Kill($true); throw 'the sign-in process did not end within 2 minutes' }
        $line = @($out.Result -split "`n" | Where-Object { $_ -match '^\{' }) | Select-Object -Last 1
        "$line" | Should -Match '^\{' -Because "the child printed its result: $($out.Result) $($err.Result)"
        $line | ConvertFrom-Json
    }

    # A JWT-shaped token with the claims given (unsigned: ProfileSync reads claims, the service checks signatures).
    function New-TestJwt([hashtable] $Claims) {
        $part = { param($o) [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes(($o | ConvertTo-Json -Compress))).TrimEnd('=').Replace('+', '-').Replace('/', '_') }
        (& $part @{ typ = 'JWT'; alg = 'RS256' }) + '.' + (& $part $Claims) + '.c2lnbmF0dXJlLXNlY3JldA'
    }
    function Secure([string] $Text) { ConvertTo-SecureString $Text -AsPlainText -Force }
}

AfterAll {
    Stop-TenantEmulator $emu
}

Describe 'Browser sign-in cannot hang (item 1)' {
    It 'is refused at once, with the device-code advice, where no display can show a browser' -Skip:(-not $IsLinux) {
        $script = @"
`$clock = [Diagnostics.Stopwatch]::StartNew()
try { Connect-ProfileSync -TenantName contoso -ClientId '$App' -ErrorAction Stop; `$result.Connected = `$true }
catch { `$result.Error = `$_.FullyQualifiedErrorId; `$result.Category = [string]`$_.CategoryInfo.Category; `$result.Message = `$_.Exception.Message; `$result.Action = `$_.ErrorDetails.RecommendedAction }
`$result.Seconds = `$clock.Elapsed.TotalSeconds
"@
        foreach ($session in @(@{}, @{ SSH_CONNECTION = '10.0.0.1 50000 10.0.0.2 22' })) {
            $r = Invoke-SignInProcess $script $session
            $r.Error | Should -Be 'SignInFailed,ProfileSync.PowerShell.Commands.ConnectProfileSyncCommand'
            $r.Category | Should -Be 'AuthenticationError'
            $r.Message | Should -Match 'without a display'
            $r.Action | Should -Match '-UseDeviceCode'
            $r.Seconds | Should -BeLessThan 3 -Because 'nothing is waited for'
        }
    }

    Context 'with a display the browser opens on, where nobody answers it' {
        BeforeAll {
            # A browser "opened" nowhere: xdg-open succeeds and shows nothing, as on a machine whose display nobody watches.
            $bin = New-Item -ItemType Directory (Join-Path $TestDrive 'bin') -Force
            foreach ($name in 'xdg-open', 'sensible-browser', 'x-www-browser') {
                Set-Content (Join-Path $bin $name) "#!/bin/sh`nexit 0"
                if ($IsLinux -or $IsMacOS) { chmod +x (Join-Path $bin $name) }
            }
            $script:Display = @{ DISPLAY = ':99'; PATH = "$bin$([IO.Path]::PathSeparator)$env:PATH" }
        }

        It 'warns before it waits, then ends at -TimeoutSeconds in SignInFailed with the same advice' -Skip:(-not $IsLinux) {
            $r = Invoke-SignInProcess @"
`$clock = [Diagnostics.Stopwatch]::StartNew()
try { Connect-ProfileSync -TenantName contoso -ClientId '$App' -TimeoutSeconds 2 -WarningVariable warned -WarningAction SilentlyContinue -ErrorAction Stop }
catch { `$result.Error = `$_.FullyQualifiedErrorId; `$result.Message = `$_.Exception.Message; `$result.Action = `$_.ErrorDetails.RecommendedAction }
`$result.Seconds = `$clock.Elapsed.TotalSeconds
`$result.Warnings = @(`$warned | ForEach-Object { "`$_" })
"@ $Display
            $r.Warnings[0] | Should -Match 'Waiting for the browser sign-in \(up to 2 s'
            $r.Warnings[0] | Should -Match 'No browser here\? Use -UseDeviceCode'
            $r.Error | Should -Be 'SignInFailed,ProfileSync.PowerShell.Commands.ConnectProfileSyncCommand'
            $r.Message | Should -Match 'within 2 s \(-TimeoutSeconds\)'
            $r.Action | Should -Match '-UseDeviceCode'
            $r.Seconds | Should -BeGreaterThan 1.5
            $r.Seconds | Should -BeLessThan 10
        }

        It 'waits three minutes by default, and still ends at once on Ctrl+C (StopProcessing)' -Skip:(-not $IsLinux) {
            $r = Invoke-SignInProcess @"
`$ps = [powershell]::Create()
`$null = `$ps.AddScript("Import-Module '$ModulePath'; Connect-ProfileSync -TenantName contoso -ClientId '$App'")
`$running = `$ps.BeginInvoke()
Start-Sleep -Milliseconds 1500
`$result.StateBeforeStop = [string]`$ps.InvocationStateInfo.State
`$result.Warning = @(`$ps.Streams.Warning | ForEach-Object Message)[0]
`$clock = [Diagnostics.Stopwatch]::StartNew()
`$ps.Stop()
`$result.StopSeconds = `$clock.Elapsed.TotalSeconds
`$result.State = [string]`$ps.InvocationStateInfo.State
"@ $Display
            $r.StateBeforeStop | Should -Be 'Running' -Because 'the sign-in was waiting'
            $r.Warning | Should -Match 'up to 180 s'
            $r.State | Should -Be 'Stopped'
            $r.StopSeconds | Should -BeLessThan 5
        }
    }

    It 'offers -TimeoutSeconds for browser sign-in only' {
        (Get-Command Connect-ProfileSync).Parameters['TimeoutSeconds'].ParameterSets.Keys | Should -Be @('Interactive')
    }
}

Describe 'Connect-ProfileSync checks what it is given (item 9)' {
    BeforeEach { Connect-TenantEmulator $emu }

    It 'refuses a token for the other service, another tenant, or expired at once: no request sent, the token never shown' {
        $graph = New-TestJwt @{ aud = 'https://graph.microsoft.com'; exp = [DateTimeOffset]::UtcNow.AddHours(1).ToUnixTimeSeconds() }
        $sharePoint = New-TestJwt @{ aud = 'https://contoso.sharepoint.com'; exp = [DateTimeOffset]::UtcNow.AddHours(1).ToUnixTimeSeconds() }
        $fabrikam = New-TestJwt @{ aud = 'https://fabrikam.sharepoint.com'; exp = [DateTimeOffset]::UtcNow.AddHours(1).ToUnixTimeSeconds() }
        $expired = New-TestJwt @{ aud = 'https://graph.microsoft.com'; exp = [DateTimeOffset]::UtcNow.AddHours(-2).ToUnixTimeSeconds() }
        $cases = @(
            @{ Graph = $sharePoint; SharePoint = $graph; Says = 'swapped' }
            @{ Graph = $graph; SharePoint = $fabrikam; Says = "-SharePointAccessToken is for 'https://fabrikam\.sharepoint\.com', not for SharePoint" }
            @{ Graph = $expired; SharePoint = $sharePoint; Says = '-GraphAccessToken expired at .* UTC \(2 h ago\)' }
        )
        Clear-EmulatorLog $emu
        foreach ($case in $cases) {
            $thrown = $null
            try {
                Connect-ProfileSync -TenantName contoso -GraphAccessToken (Secure $case.Graph) -SharePointAccessToken (Secure $case.SharePoint) `
                    -GraphEndpoint $emu.Graph -MySiteHostUrl $emu.MySite -SharePointAdminUrl $emu.Admin -Verbose -Debug -ErrorAction Stop *>&1 | Out-Null
            }
            catch { $thrown = $_ }
            $thrown | Should -Not -BeNullOrEmpty -Because $case.Says
            $thrown.FullyQualifiedErrorId | Should -Be 'InvalidParameter,ProfileSync.PowerShell.Commands.ConnectProfileSyncCommand'
            $thrown.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $thrown.Exception.Message | Should -Match $case.Says
            foreach ($token in $case.Graph, $case.SharePoint) {
                "$thrown $($thrown.ErrorDetails.RecommendedAction)" | Should -Not -Match ([regex]::Escape($token.Split('.')[1])) -Because 'no token appears in an error'
            }
        }
        @(Get-EmulatorLog $emu) | Should -BeNullOrEmpty -Because 'a refused token is never sent'
        (Get-ProfileSyncConnection).GraphEndpoint | Should -Be $emu.Graph -Because 'the connection in use stays'
    }

    It "accepts the emulator's opaque tokens with a verbose note" {
        $verbose = Connect-TenantEmulator $emu -Extra @{ Verbose = $true } 4>&1 | ForEach-Object { "$_" }
        $verbose | Should -Contain 'The -GraphAccessToken is not a JWT, so its audience and expiry cannot be checked here; Microsoft Graph checks it at the first request.'
        ($verbose -join "`n") | Should -Not -Match ([regex]::Escape($emu.GraphToken))
        ($verbose -join "`n") | Should -Not -Match ([regex]::Escape($emu.SharePointToken))
        (Get-PhotoSyncState 'adele.vance@contoso.com').State | Should -Be 'InSync'
    }

    It '-TenantName contoso-admin, contoso-my or their URLs mean the tenant contoso' {
        foreach ($name in 'contoso-admin', 'contoso-my', 'contoso-admin.sharepoint.com', 'https://contoso-admin.sharepoint.com/_layouts/15/online/AdminHome.aspx', 'https://contoso-my.sharepoint.com/') {
            $c = Connect-ProfileSync -Pacing Adaptive -TenantName $name -GraphAccessToken (Secure 'x') -SharePointAccessToken (Secure 'x') -ReturnConnection
            $c.TenantName | Should -Be 'contoso' -Because $name
            $c.MySiteHostUrl | Should -Be ([uri]'https://contoso-my.sharepoint.com/') -Because $name
            $c.SharePointAdminUrl | Should -Be ([uri]'https://contoso-admin.sharepoint.com/') -Because $name
            $c.SharePointScope | Should -Be 'https://contoso.sharepoint.com/.default' -Because $name
            Disconnect-ProfileSync -Connection $c
        }
        { Connect-ProfileSync -TenantName 'contoso.example.com' -GraphAccessToken (Secure 'x') -SharePointAccessToken (Secure 'x') } |
            Should -Throw -ErrorId 'InvalidParameter,ProfileSync.PowerShell.Commands.ConnectProfileSyncCommand' -ExpectedMessage "*e.g. 'contoso'*"
    }

    It 'Get-ProfileSyncConnection shows the scopes in its default view, and no token' {
        $shown = Get-ProfileSyncConnection | Out-String -Width 200
        $shown | Should -Match 'GraphScope\s+: https://graph\.microsoft\.com/\.default'
        $shown | Should -Match 'SharePointScope\s+: https://contoso\.sharepoint\.com/\.default'
        $shown | Should -Not -Match ([regex]::Escape($emu.GraphToken))
    }
}

Describe 'Set-ProfilePhoto and Remove-ProfilePhoto say what the real run would do (items 4, 9)' {
    BeforeAll {
        Connect-TenantEmulator $emu
        $script:PhotoFile = Join-Path $TestDrive 'new.jpg'
        [IO.File]::WriteAllBytes($PhotoFile, (Invoke-WebRequest -Uri ([uri]::new($emu.Control, 'samples/photo?seed=14&format=jpeg&side=300'))).Content)
        $script:Known = 'adele.vance@contoso.com', 'megan.bowen@contoso.com'
    }

    It '-WhatIf reports UserNotFound for a user Graph does not know, from batched Graph reads only' {
        foreach ($command in 'Set-ProfilePhoto', 'Remove-ProfilePhoto') {
            Clear-EmulatorLog $emu
            $errs = $null
            $rows = @($Known + 'nobody@contoso.com') | ForEach-Object { [pscustomobject]@{ UserPrincipalName = $_; Path = $PhotoFile } }
            $results = @(if ($command -eq 'Set-ProfilePhoto') { $rows | Set-ProfilePhoto -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue 6>$null }
                else { $rows | Remove-ProfilePhoto -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue 6>$null })
            $byUser = @{}; foreach ($r in $results) { $byUser[$r.UserPrincipalName] = $r }
            $byUser['nobody@contoso.com'].Action | Should -Be 'Failed' -Because $command
            $byUser['nobody@contoso.com'].ErrorId | Should -Be 'UserNotFound' -Because $command
            $byUser['nobody@contoso.com'].Exchange | Should -Be 'NotFound' -Because $command
            foreach ($upn in $Known) { $byUser[$upn].Action | Should -BeIn 'WouldUpdate', 'WouldRemove' -Because "$command $upn" }
            @($errs).Count | Should -Be 1 -Because $command
            $errs[0].FullyQualifiedErrorId | Should -BeLike "UserNotFound,*"
            $errs[0].TargetObject | Should -Be 'nobody@contoso.com'
            $errs[0].ErrorDetails.RecommendedAction | Should -Match 'Check the user principal name' 
            $log = @(Get-EmulatorLog $emu)
            @($log | Where-Object IsWrite) | Should -BeNullOrEmpty -Because "$command -WhatIf writes nothing"
            @($log | Where-Object { $_.Service -eq 'graph' -and $_.Target -notlike '*/$batch' }) | Should -BeNullOrEmpty -Because "$command -WhatIf reads users in Graph batches"
            @($log | Where-Object { $_.Service -eq 'graph' }).Count | Should -BeIn 1, 2, 3 -Because "$command sends at most one batch per user, usually one for all"
        }
    }

    It 'Remove-ProfilePhoto of a user with nothing to remove reports Skipped, not Removed' {
        $none = Remove-ProfilePhoto 'no.photo1@contoso.com' -Force
        $none.Action | Should -Be 'Skipped'
        $none.Exchange | Should -Be 'NothingToRemove'
        $none.SharePoint | Should -Be 'NothingToRemove'
        $none.Reason | Should -Match '^Nothing to remove'
        $exchangeOnly = Remove-ProfilePhoto 'no.photo5@contoso.com' -ExchangeOnly -Force
        $exchangeOnly.Action | Should -Be 'Skipped'
        $exchangeOnly.Exchange | Should -Be 'NothingToRemove'
        # A user that had a photo is still Removed.
        (Remove-ProfilePhoto 'megan.bowen@contoso.com' -Force).Action | Should -Be 'Removed'
    }

    It 'gives a local file that is not an image its own ErrorId and advice, about the row and not the Exchange photo' {
        $notes = Join-Path $TestDrive 'notes.jpg'
        Set-Content $notes 'Meeting notes, not a photo'
        $errs = $null
        $r = Set-ProfilePhoto -UserPrincipalName 'adele.vance@contoso.com' -Path $notes -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        $r.ErrorId | Should -Be 'PhotoSourceUnreadable'
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PhotoSourceUnreadable,*'
        $errs[0].ErrorDetails.RecommendedAction | Should -Not -Match 'Exchange photo|Set-MgUserPhotoContent|service health'
        $errs[0].ErrorDetails.RecommendedAction | Should -Match 'Give the row a JPEG or PNG photo' 
    }
}
