# Starts and stops the tenant emulator as a child process, for the demo and the Pester tests.

function Start-TenantEmulator {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $EmulatorPath,
        [Parameter(Mandatory)] [string] $Scenario,
        [int] $LatencyMs = -1
    )
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @($EmulatorPath, '--scenario', $Scenario, '--parent-pid', $PID)) { $psi.ArgumentList.Add([string]$a) }
    if ($LatencyMs -ge 0) { $psi.ArgumentList.Add('--latency-ms'); $psi.ArgumentList.Add([string]$LatencyMs) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $lineTask = $process.StandardOutput.ReadLineAsync()
    if (-not $lineTask.Wait([TimeSpan]::FromSeconds(60)) -or -not $lineTask.Result) {
        $err = if ($process.HasExited) { $process.StandardError.ReadToEnd() } else { '' }
        try { $process.Kill($true) } catch { }
        throw "The tenant emulator did not start. $err"
    }
    $info = $lineTask.Result | ConvertFrom-Json
    [pscustomobject]@{
        Process         = $process
        Tenant          = $info.tenant
        Graph           = [uri]$info.graph
        MySite          = [uri]$info.mySite
        Admin           = [uri]$info.admin
        Control         = [uri]$info.control
        GraphToken      = $info.graphToken
        SharePointToken = $info.sharePointToken
        IdentityEndpoint = $info.identityEndpoint
        IdentityHeader  = $info.identityHeader
        Users           = $info.users
    }
}

function Stop-TenantEmulator {
    param([Parameter(Mandatory)] $Emulator)
    if (-not $Emulator.Process.HasExited) {
        $Emulator.Process.Kill($true)
        $Emulator.Process.WaitForExit(10000) | Out-Null
    }
    $Emulator.Process.Dispose()
}

function Connect-TenantEmulator {
    # Connects ProfileSync to the emulator exactly as to a tenant: only endpoints and tokens differ.
    # -Pacing Adaptive unless a test asks for the ceilings: the emulator's ceilings are off unless switched on.
    param([Parameter(Mandatory)] $Emulator, [switch] $PassThru, [string] $Pacing = 'Adaptive', [hashtable] $Extra = @{})
    Connect-ProfileSync -Pacing $Pacing @Extra -TenantName $Emulator.Tenant `
        -GraphAccessToken (ConvertTo-SecureString $Emulator.GraphToken -AsPlainText -Force) `
        -SharePointAccessToken (ConvertTo-SecureString $Emulator.SharePointToken -AsPlainText -Force) `
        -GraphEndpoint $Emulator.Graph -MySiteHostUrl $Emulator.MySite -SharePointAdminUrl $Emulator.Admin -PassThru:$PassThru
}

function Get-EmulatorLog {
    param([Parameter(Mandatory)] $Emulator)
    (Invoke-RestMethod -Uri ([uri]::new($Emulator.Control, 'log'))) | ForEach-Object { $_ }
}

function Clear-EmulatorLog {
    param([Parameter(Mandatory)] $Emulator)
    Invoke-RestMethod -Method Post -Uri ([uri]::new($Emulator.Control, 'log/clear')) | Out-Null
}

function Get-EmulatorUser {
    param([Parameter(Mandatory)] $Emulator, [Parameter(Mandatory)] [string] $UserPrincipalName)
    Invoke-RestMethod -Uri ([uri]::new($Emulator.Control, 'users/' + [uri]::EscapeDataString($UserPrincipalName)))
}

function Get-EmulatorFile {
    param([Parameter(Mandatory)] $Emulator)
    (Invoke-RestMethod -Uri ([uri]::new($Emulator.Control, 'files'))) | ForEach-Object { $_ }
}

Export-ModuleMember -Function Start-TenantEmulator, Stop-TenantEmulator, Connect-TenantEmulator, Get-EmulatorLog, Clear-EmulatorLog, Get-EmulatorUser, Get-EmulatorFile

function Get-EmulatorUserList {
    param([Parameter(Mandatory)] $Emulator)
    # Invoke-RestMethod writes a JSON array as one object: enumerate it.
    (Invoke-RestMethod -Uri ([uri]::new($Emulator.Control, 'users'))) | ForEach-Object { $_ }
}
Export-ModuleMember -Function Get-EmulatorUserList
