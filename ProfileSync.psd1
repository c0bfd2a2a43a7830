@{
    RootModule           = 'ProfileSync.dll'
    # Imported first: sets up the private load context of ProfileSync's dependencies.
    NestedModules        = @('ProfileSync.Loader.dll')
    ModuleVersion        = '0.3.0'
    GUID                 = '5d3c8f7e-2b1a-4c6d-9e8f-0a1b2c3d4e5f'
    Author               = 'ProfileSync contributors'
    CompanyName          = 'ProfileSync'
    Copyright            = '(c) ProfileSync contributors. MIT licence.'
    Description          = 'Makes SharePoint Online show the same profile photo as Exchange Online: compares the two photos per user and pushes only what differs.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    CmdletsToExport      = @('Connect-ProfileSync', 'Disconnect-ProfileSync', 'Get-ProfileSyncConnection', 'Get-PhotoSyncState', 'Sync-ProfilePhoto', 'Export-PhotoSyncReport', 'Set-ProfilePhoto', 'Remove-ProfilePhoto', 'Test-ProfileSyncConnection')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    FormatsToProcess     = @('ProfileSync.format.ps1xml')
    PrivateData          = @{
        PSData = @{
            Tags         = @('SharePoint', 'SharePointOnline', 'Exchange', 'ExchangeOnline', 'Microsoft365', 'ProfilePhoto', 'UserProfile', 'Graph')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ProjectUri   = 'https://github.com/profilesync/profilesync'
            ReleaseNotes = '0.3.0: Set-ProfilePhoto and Remove-ProfilePhoto (files or URLs, Exchange and SharePoint in one step); Export-PhotoSyncReport (HTML with both photos side by side, CSV); full Get-Help and about_ProfileSync; resumable runs survive a killed process; hostile photos and failing services handled. 0.2.0: sign-in by browser, device code, certificate and managed identity in every Microsoft 365 cloud; dependencies isolated in their own load context; whole-tenant runs with flat memory. 0.1.0: Get-PhotoSyncState and Sync-ProfilePhoto with pre-acquired tokens.'
        }
    }
}
