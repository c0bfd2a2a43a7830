BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')

    # The tenant: one user per import row, all with an older photo in Exchange and SharePoint.
    $rows = 'file.good', 'file.missing', 'file.notimage', 'file.toolarge', 'file.exif', 'file.png', 'url.good', 'url.redirect', 'url.toolarge', 'url.https', 'row.nosource'
    $scenario = @{ tenant = 'contoso'; users = @($rows | ForEach-Object -Begin { $i = 0 } -Process { $i++; @{ upn = "$_@contoso.com"; photo = @{ seed = 500 + $i }; sharePoint = 'stale' } }) }
    $scenarioPath = Join-Path $TestDrive 'import-tenant.json'
    $scenario | ConvertTo-Json -Depth 6 | Set-Content $scenarioPath
    $script:emu = Start-ConnectedEmulator $scenarioPath

    function Get-Sample([int] $Seed, [string] $Format, [int] $Side = 400) {
        (Invoke-WebRequest -Uri ([uri]::new($emu.Control, "samples/photo?seed=$Seed&format=$Format&side=$Side"))).Content
    }
    $files = New-Item -ItemType Directory (Join-Path $TestDrive 'photos')
    [IO.File]::WriteAllBytes((Join-Path $files 'good.jpg'), (Get-Sample 1 jpeg))
    [IO.File]::WriteAllBytes((Join-Path $files 'rotated.jpg'), (Get-Sample 2 exif6 500))
    [IO.File]::WriteAllBytes((Join-Path $files 'photo.png'), (Get-Sample 3 png 300))
    Set-Content (Join-Path $files 'notes.jpg') 'Meeting notes, not a photo'
    $big = [byte[]]::new(3MB); [Random]::new(1).NextBytes($big)
    [IO.File]::WriteAllBytes((Join-Path $files 'huge.jpg'), $big)

    # A photo server on loopback, answering on two hosts (127.0.0.1 and localhost) to test redirects to
    # another host; it records whether any request carried an Authorization header.
    $script:Served = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
    $listener = [Net.HttpListener]::new()
    $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $probe.Start(); $script:PhotoPort = $probe.LocalEndpoint.Port; $probe.Stop()
    $listener.Prefixes.Add("http://127.0.0.1:$PhotoPort/")
    $listener.Prefixes.Add("http://localhost:$PhotoPort/")
    $listener.Start()
    $script:Listener = $listener
    $content = @{ '/good.jpg' = (Get-Sample 4 jpeg); '/elsewhere.jpg' = (Get-Sample 5 jpeg); '/huge.jpg' = $big }
    $script:Server = [powershell]::Create()
    $null = $Server.AddScript({
            param($listener, $content, $served, $port)
            while ($listener.IsListening) {
                try { $context = $listener.GetContext() } catch { break }
                $path = $context.Request.Url.AbsolutePath
                $served.Enqueue("$($context.Request.Url.Host) $path auth=$([bool]$context.Request.Headers['Authorization'])")
                $response = $context.Response
                if ($path -eq '/redirect') { $response.StatusCode = 302; $response.RedirectLocation = "http://localhost:$port/elsewhere.jpg" }
                elseif ($content.ContainsKey($path)) { $response.ContentType = 'image/jpeg'; $bytes = $content[$path]; $response.ContentLength64 = $bytes.Length; $response.OutputStream.Write($bytes, 0, $bytes.Length) }
                else { $response.StatusCode = 404 }
                $response.Close()
            }
        }).AddArgument($listener).AddArgument($content).AddArgument($Served).AddArgument($PhotoPort)
    $script:ServerRun = $Server.BeginInvoke()

    $base = "http://127.0.0.1:$PhotoPort"
    $script:Csv = Join-Path $TestDrive 'hr-photos.csv'
    @(
        [pscustomobject]@{ UserPrincipalName = 'file.good@contoso.com'; Path = (Join-Path $files 'good.jpg'); Url = '' }
        [pscustomobject]@{ UserPrincipalName = 'file.missing@contoso.com'; Path = (Join-Path $files 'gone.jpg'); Url = '' }
        [pscustomobject]@{ UserPrincipalName = 'file.notimage@contoso.com'; Path = (Join-Path $files 'notes.jpg'); Url = '' }
        [pscustomobject]@{ UserPrincipalName = 'file.toolarge@contoso.com'; Path = (Join-Path $files 'huge.jpg'); Url = '' }
        [pscustomobject]@{ UserPrincipalName = 'file.exif@contoso.com'; Path = (Join-Path $files 'rotated.jpg'); Url = '' }
        [pscustomobject]@{ UserPrincipalName = 'file.png@contoso.com'; Path = (Join-Path $files 'photo.png'); Url = '' }
        [pscustomobject]@{ UserPrincipalName = 'url.good@contoso.com'; Path = ''; Url = "$base/good.jpg" }
        [pscustomobject]@{ UserPrincipalName = 'url.redirect@contoso.com'; Path = ''; Url = "$base/redirect" }
        [pscustomobject]@{ UserPrincipalName = 'url.toolarge@contoso.com'; Path = ''; Url = "$base/huge.jpg" }
        [pscustomobject]@{ UserPrincipalName = 'row.nosource@contoso.com'; Path = ''; Url = '' }
    ) | Export-Csv $Csv -NoTypeInformation
    $script:Good = 'file.good@contoso.com', 'file.exif@contoso.com', 'file.png@contoso.com', 'url.good@contoso.com', 'url.redirect@contoso.com'
    $script:Expected = @{
        'file.missing@contoso.com'  = 'PhotoSourceNotFound'
        'file.notimage@contoso.com' = 'PhotoSourceUnreadable'
        'file.toolarge@contoso.com' = 'PhotoSourceTooLarge'
        'url.toolarge@contoso.com'  = 'PhotoSourceTooLarge'
    }
    function Get-OurFiles([string] $Upn) {
        $id = (Get-EmulatorUser $emu $Upn).Id
        @(Get-EmulatorFile $emu | Where-Object { $_.Path -match "/$([regex]::Escape($id))_[0-9a-f]{12}_[SML]Thumb\.jpg$" })
    }
}
AfterAll {
    if ($Listener) { $Listener.Stop(); $Listener.Close() }
    if ($Server) { $Server.Dispose() }
    Stop-TenantEmulator $emu
}

Describe 'Set-ProfilePhoto from a CSV of files and URLs' {
    It '-WhatIf reads and checks every photo and writes nothing' {
        Clear-EmulatorLog $emu
        $errs = $null
        $dry = @(Import-Csv $Csv | Set-ProfilePhoto -MaxSourceMB 2 -AllowHttp -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue 6>$null)
        @(Get-EmulatorLog $emu | Where-Object IsWrite) | Should -BeNullOrEmpty
        @($dry | Where-Object Action -eq 'WouldUpdate').UserPrincipalName | Sort-Object | Should -Be ($Good | Sort-Object)
        @($errs).Count | Should -Be 5 -Because 'four bad photos and one row without a photo'
    }

    It 'sets exactly the users whose photo is good, and names every bad row with its ErrorId' {
        $errs = $null
        $results = @(Import-Csv $Csv | Set-ProfilePhoto -MaxSourceMB 2 -AllowHttp -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue)
        $byUser = @{}; foreach ($r in $results) { $byUser[$r.UserPrincipalName] = $r }
        foreach ($upn in $Good) {
            $byUser[$upn].Action | Should -Be 'Updated' -Because "$upn has a good photo ($($byUser[$upn].Reason))"
            $byUser[$upn].Exchange | Should -Be 'Updated'
            $byUser[$upn].SharePoint | Should -Be 'Updated'
            $byUser[$upn].PhotoSide | Should -BeLessOrEqual 648
            $byUser[$upn].PhotoBytes | Should -BeLessThan 4MB
            $byUser[$upn].PhotoSha256 | Should -Match '^[0-9a-f]{64}$'
            @((Get-EmulatorUser $emu $upn).PhotoWrites) | Should -Be @('PUT')
        }
        foreach ($upn in $Expected.Keys) {
            $byUser[$upn].Action | Should -Be 'Failed' -Because $upn
            $byUser[$upn].ErrorId | Should -Be $Expected[$upn] -Because "$upn ($($byUser[$upn].Reason))"
            @((Get-EmulatorUser $emu $upn).PhotoWrites) | Should -BeNullOrEmpty -Because "$upn was not written"
            @(Get-OurFiles $upn) | Should -BeNullOrEmpty
        }
        ($errs | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] } | Sort-Object) |
            Should -Be (@($Expected.Values) + 'NoPhotoSource' | Sort-Object)
        ($errs | Where-Object { $_.FullyQualifiedErrorId -like 'NoPhotoSource*' }).TargetObject | Should -Be 'row.nosource@contoso.com'
        $byUser.ContainsKey('url.https@contoso.com') | Should -BeFalse -Because 'that user was not in the CSV'
    }

    It 'leaves every set user InSync, with the photo upright and square' {
        $states = @($Good | Get-PhotoSyncState)
        foreach ($s in $states) { $s.State | Should -Be 'InSync' -Because "$($s.UserPrincipalName): $($s.Reason)" }
        $rotated = $states | Where-Object UserPrincipalName -eq 'file.exif@contoso.com'
        $rotated.ExchangePhotoWidth | Should -Be $rotated.ExchangePhotoHeight
    }

    It 'fetched every URL without a token and followed the redirect to the other host' {
        $log = @($Served.ToArray())
        $log | Should -Contain '127.0.0.1 /redirect auth=False'
        $log | Should -Contain 'localhost /elsewhere.jpg auth=False'
        @($log | Where-Object { $_ -like '*auth=True' }) | Should -BeNullOrEmpty
    }

    It 'refuses http without -AllowHttp, naming the rule' {
        $errs = $null
        $r = Set-ProfilePhoto -UserPrincipalName url.https@contoso.com -Url "http://127.0.0.1:$PhotoPort/good.jpg" -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        $r.Action | Should -Be 'Failed'
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PhotoSourceRefused,*'
        $errs[0].Exception.Message | Should -Match '-AllowHttp'
    }
}

Describe 'Errors of Set-ProfilePhoto and Remove-ProfilePhoto' {
    It 'every row error carries the recommended action of its own ErrorId, never the service-health advice' {
        $files = Join-Path $TestDrive 'photos'
        $base = "http://127.0.0.1:$PhotoPort"
        $rows = @(
            [pscustomobject]@{ UserPrincipalName = 'file.missing@contoso.com'; Path = (Join-Path $files 'gone.jpg'); Url = '' }
            [pscustomobject]@{ UserPrincipalName = 'file.notimage@contoso.com'; Path = (Join-Path $files 'notes.jpg'); Url = '' }
            [pscustomobject]@{ UserPrincipalName = 'file.toolarge@contoso.com'; Path = (Join-Path $files 'huge.jpg'); Url = '' }
            [pscustomobject]@{ UserPrincipalName = 'url.https@contoso.com'; Path = ''; Url = "$base/good.jpg" }
            [pscustomobject]@{ UserPrincipalName = 'url.redirect@contoso.com'; Path = ''; Url = 'ftp://127.0.0.1/photo.jpg' }
            [pscustomobject]@{ UserPrincipalName = 'url.toolarge@contoso.com'; Path = ''; Url = 'https://127.0.0.1:1/closed.jpg' }
            [pscustomobject]@{ UserPrincipalName = 'row.nosource@contoso.com'; Path = ''; Url = '' }
            [pscustomobject]@{ UserPrincipalName = 'nobody@contoso.com'; Path = (Join-Path $files 'good.jpg'); Url = '' }
            [pscustomobject]@{ UserPrincipalName = 'file.exif@contoso.com'; Path = (Join-Path $files 'good.jpg'); Url = '' }
            [pscustomobject]@{ UserPrincipalName = 'file.exif@contoso.com'; Path = (Join-Path $files 'photo.png'); Url = '' }
            [pscustomobject]@{ UserPrincipalName = 'not a upn'; Path = (Join-Path $files 'good.jpg'); Url = '' }
        )
        $errs = $null
        $null = $rows | Set-ProfilePhoto -MaxSourceMB 2 -TimeoutSeconds 5 -WhatIf -ErrorVariable errs -ErrorAction SilentlyContinue 6>$null
        $set = @($errs)
        $errs = $null
        $null = Set-ProfilePhoto -UserPrincipalName nobody@contoso.com -Path (Join-Path $files 'good.jpg') -Confirm:$false -ErrorVariable +errs -ErrorAction SilentlyContinue
        $null = Remove-ProfilePhoto -UserPrincipalName nobody@contoso.com -Force -ErrorVariable +errs -ErrorAction SilentlyContinue
        $all = $set + @($errs)

        # What each ErrorId's advice must be about: the row, the source, the user; never the service health.
        $about = @{
            PhotoSourceNotFound = 'path|URL'; PhotoSourceRefused = 'https|URL'; PhotoSourceTooLarge = 'smaller|-MaxSourceMB'; PhotoSourceFailed = 'URL|server'
            NoPhotoSource = 'one photo'; PhotoSourceUnreadable = 'JPEG|PNG'; UserNotFound = 'user principal name|UPN'
            DuplicateUser = 'one row'; InvalidUserPrincipalName = 'UPN|row'
        }
        $seen = @($all | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] } | Sort-Object -Unique)
        $seen | Should -Be (@($about.Keys) | Sort-Object) -Because 'the test meets every ErrorId a row of Set or Remove can give without a failing service'
        foreach ($e in $all) {
            $id = $e.FullyQualifiedErrorId.Split(',')[0]
            $action = $e.ErrorDetails.RecommendedAction
            $action | Should -Not -BeNullOrEmpty -Because "$id has advice"
            $action | Should -Not -Match 'service health' -Because "$id ($($e.ErrorDetails.Message)) is not a service failure"
            $action | Should -Match $about[$id] -Because "$id ($($e.ErrorDetails.Message)) gets advice about its own cause: $action"
            $e.TargetObject | Should -Not -BeNullOrEmpty -Because "$id names its row or user"
        }
    }
}

Describe 'Remove-ProfilePhoto' {
    It '-WhatIf removes nothing' {
        Clear-EmulatorLog $emu
        $r = @($Good | Remove-ProfilePhoto -WhatIf 6>$null)
        @(Get-EmulatorLog $emu | Where-Object IsWrite) | Should -BeNullOrEmpty
        @($r | Where-Object Action -eq 'WouldRemove').Count | Should -Be $Good.Count
    }

    It 'returns the users to NoSourcePhoto with the placeholder in SharePoint and no file of ours left' {
        foreach ($upn in $Good) { @(Get-OurFiles $upn).Count | Should -Be 3 -Because "$upn has the S/M/L set Set-ProfilePhoto wrote" }
        $results = @($Good | Remove-ProfilePhoto -Force)
        foreach ($r in $results) {
            $r.Action | Should -Be 'Removed' -Because "$($r.UserPrincipalName): $($r.Reason)"
            $r.Exchange | Should -Be 'Removed'
            $r.SharePoint | Should -Be 'Removed'
        }
        foreach ($upn in $Good) {
            $profile = (Get-EmulatorUser $emu $upn).Profile
            $profile.'SPS-PicturePlaceholderState' | Should -Be '1'
            $profile.PictureURL | Should -BeNullOrEmpty
            @(Get-OurFiles $upn) | Should -BeNullOrEmpty -Because "no file ProfileSync wrote for $upn is left"
        }
        @($Good | Get-PhotoSyncState) | ForEach-Object { $_.State | Should -Be 'NoSourcePhoto' }
    }

    It 'asks before it removes (ConfirmImpact High)' {
        (Get-Command Remove-ProfilePhoto).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
    }
}
