# Issue 12: Connect-ProfileSync learns the tenant's licence band (Graph /subscribedSkus) and paces
# SharePoint under its ceilings; a refused read falls back to the smallest band with a warning; -TenantSize wins.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:emu = Start-TenantEmulator -EmulatorPath $EmulatorPath -Scenario $DemoScenario
    function Set-Limits([string] $Query) { Invoke-RestMethod -Method Post -Uri ([uri]::new($emu.Control, "limits?$Query")) | Out-Null }
}
AfterAll {
    Stop-TenantEmulator $emu
}

Describe 'Pacing under the tenant''s ceilings' {
    AfterEach { Set-Limits 'licences=500&subscribedSkusForbidden=false' }

    It 'learns the band from the licences and names the ceilings it paces to' {
        Set-Limits 'licences=12000'
        $verbose = Connect-TenantEmulator $emu -Pacing Ceilings -Extra @{ Verbose = $true } 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $line = @($verbose.Message | Where-Object { $_ -like 'SharePoint pacing:*' })
        $line.Count | Should -Be 1
        $line[0] | Should -Match 'UpTo15000'
        $line[0] | Should -Match '12,000 licences'
        $line[0] | Should -Match 'PeopleManager 9,000 calls per 5 min'
        @(Get-PhotoSyncState adele.vance@contoso.com).Count | Should -Be 1 -Because 'a paced connection works'
    }

    It 'falls back to the smallest band with a warning naming -TenantSize when the licences may not be read' {
        Set-Limits 'subscribedSkusForbidden=true'
        $warnings = Connect-TenantEmulator $emu -Pacing Ceilings 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
        @($warnings.Message | Where-Object { $_ -match '-TenantSize' }).Count | Should -Be 1
    }

    It '-TenantSize wins over the licences, and -Pacing Adaptive models no ceiling' {
        $verbose = Connect-TenantEmulator $emu -Pacing Ceilings -Extra @{ TenantSize = 'Over50000'; Verbose = $true } 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        @($verbose.Message | Where-Object { $_ -like 'SharePoint pacing:*' })[0] | Should -Match 'Over50000.*-TenantSize'
        $verbose = Connect-TenantEmulator $emu -Extra @{ Verbose = $true } 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        @($verbose.Message | Where-Object { $_ -like 'SharePoint pacing:*' })[0] | Should -Match 'adaptive'
    }
}
