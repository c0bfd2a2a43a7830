<#
.SYNOPSIS
    What the common community scripts do, kept as the benchmark's baseline: one user after another,
    Graph photo download, profile read, thumbnail download, compare, and for a sync upload three
    thumbnails and set the profile properties. Invoke-RestMethod's own retry (which honours
    Retry-After on 429) stands in for the scripts' retry loops. The same image code as ProfileSync
    (fingerprint, thumbnails) is used, so only the way of working differs.
#>
function Invoke-BaselinePhotoRun {
    param(
        [Parameter(Mandatory)] [string[]] $UserPrincipalName,
        [Parameter(Mandatory)] [ValidateSet('Check', 'Sync')] [string] $Mode,
        [Parameter(Mandatory)] [uri] $Graph,
        [Parameter(Mandatory)] [uri] $MySite,
        [Parameter(Mandatory)] [uri] $Admin,
        [Parameter(Mandatory)] [string] $GraphToken,
        [Parameter(Mandatory)] [string] $SharePointToken
    )
    $graphHeaders = @{ Authorization = "Bearer $GraphToken" }
    $spHeaders = @{ Authorization = "Bearer $SharePointToken"; Accept = 'application/json;odata=nometadata' }
    function Send([string] $Method = 'Get', [string] $Uri, $Headers, $Body, [string] $ContentType) {
        for ($attempt = 0; ; $attempt++) {
            $args = @{ Method = $Method; Uri = $Uri; Headers = $Headers; SkipHttpErrorCheck = $true }
            if ($null -ne $Body) { $args.Body = $Body; $args.ContentType = $ContentType }
            $response = Invoke-WebRequest @args
            if ($response.StatusCode -notin 429, 503 -or $attempt -ge 10) { return $response }
            $wait = 1; if ($response.Headers['Retry-After']) { $wait = [int]($response.Headers['Retry-After'] | Select-Object -First 1) }
            Start-Sleep -Seconds $wait
        }
    }
    # The module's core lives in its private load context, where [type] literals do not look: take the types from the assembly.
    $core = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'ProfileSync.Core' } | Select-Object -First 1
    $imaging = @{}; foreach ($name in 'ImageLimits', 'PhotoFingerprint', 'PhotoIdentity', 'ThumbnailMaker', 'ThumbnailSizes') { $imaging[$name] = $core.GetType("ProfileSync.Core.Imaging.$name", $true) }
    $limits = $imaging.ImageLimits::Default
    $outcomes = @{}
    function Count([string] $what) { $outcomes[$what] = 1 + [int]$outcomes[$what] }
    function Alias([string] $value) { [uri]::EscapeDataString("'" + $value.Replace("'", "''") + "'") }

    foreach ($upn in $UserPrincipalName) {
        $photo = Send -Uri "$($Graph)v1.0/users/$([uri]::EscapeDataString($upn))/photo/`$value" -Headers $graphHeaders
        if ($photo.StatusCode -ne 200) { Count 'NoSourcePhoto'; continue }
        $bytes = $photo.Content
        $claims = "i:0#.f|membership|$upn"
        $profile = (Send -Uri "$($MySite)_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)?@v=$(Alias $claims)" -Headers $spHeaders).Content | ConvertFrom-Json
        if (-not $profile.AccountName) { Count 'NotFound'; continue }
        $props = @{}; foreach ($p in $profile.UserProfileProperties) { $props[$p.Key] = $p.Value }
        $pictureUrl = $props['PictureURL']
        $state = 'Different'
        if (-not $pictureUrl -or $props['SPS-PicturePlaceholderState'] -eq '1') { $state = 'MissingInSharePoint' }
        else {
            $large = [uri]::UnescapeDataString(([uri]$pictureUrl).AbsolutePath) -replace '_MThumb\.jpg$', '_LThumb.jpg'
            $thumb = Send -Uri "$($MySite)_api/web/GetFileByServerRelativePath(decodedurl=@a1)/`$value?@a1=$(Alias $large)" -Headers $spHeaders
            if ($thumb.StatusCode -ne 200) { $state = 'MissingInSharePoint' }
            else {
                try {
                    $distance = $imaging.PhotoFingerprint::Distance($bytes, $thumb.Content, $limits, 'Exchange photo', 'thumbnail')
                    if ($distance -le $imaging.PhotoFingerprint::SamePhotoThreshold) { $state = 'InSync' }
                } catch { $state = 'Error' }
            }
        }
        if ($Mode -eq 'Check' -or $state -in 'InSync', 'Error') { Count $state; continue }

        try {
            $identity = $imaging.PhotoIdentity::Of('baseline', $bytes)
            $set = $imaging.ThumbnailMaker::Make($bytes, $identity, $imaging.ThumbnailSizes::Default, $limits)
        } catch { Count 'Failed'; continue }
        $prefix = $upn -replace '[^A-Za-z0-9_-]', '_'
        $folder = '/User Photos/Profile Pictures'
        foreach ($pair in @(@('_SThumb.jpg', $set.Small), @('_MThumb.jpg', $set.Medium), @('_LThumb.jpg', $set.Large))) {
            $null = Send -Method Post -Uri "$($MySite)_api/web/GetFolderByServerRelativePath(decodedurl=@a1)/Files/AddUsingPath(decodedurl=@a2,overwrite=true)?@a1=$(Alias $folder)&@a2=$(Alias ($prefix + $pair[0]))" `
                -Headers $spHeaders -Body $pair[1] -ContentType 'application/octet-stream'
        }
        $url = "$($MySite.GetLeftPart('Authority'))/User%20Photos/Profile%20Pictures/$($prefix)_MThumb.jpg"
        $stamp = [string]([DateTime]::UtcNow.Ticks / [TimeSpan]::TicksPerSecond -as [long])
        foreach ($pair in @(@('PictureURL', $url), @('SPS-PicturePlaceholderState', '0'), @('SPS-PictureTimestamp', $stamp))) {
            $body = @{ accountName = $claims; propertyName = $pair[0]; propertyValue = $pair[1] } | ConvertTo-Json -Compress
            $null = Send -Method Post -Uri "$($Admin)_api/SP.UserProfiles.PeopleManager/SetSingleValueProfileProperty" -Headers $spHeaders `
                -Body ([Text.Encoding]::UTF8.GetBytes($body)) -ContentType 'application/json;odata=nometadata'
        }
        Count 'Updated'
    }
    $outcomes
}
