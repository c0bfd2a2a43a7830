<#
.SYNOPSIS
    Draws the README's two images from what `build.ps1 Demo` wrote: docs/images/demo-table.png from
    out/demo/state-table.txt (the demo's first table, at 120 columns, with the command that made it;
    the text is kept beside the image as docs/images/demo-table.txt), and docs/images/report.png from
    the demo's dry-run report, out/demo/dry-run.html. Uses headless Chromium (tests/WebDriver.psm1).
    Run by `build.ps1 Images`.
#>
param([Parameter(Mandatory)] [string] $DemoFolder, [Parameter(Mandatory)] [string] $ImageFolder)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../tests/WebDriver.psm1') -Force

$text = Get-Content (Join-Path $DemoFolder 'state-table.txt') -Raw
$lines = @($text.TrimEnd() -split "`r?`n")
# A terminal of 120 columns: 8.4 px per column and 18 px per line at 14 px monospace.
$page = Join-Path $DemoFolder 'state-table.html'
Set-Content $page -Encoding utf8 ("<!DOCTYPE html><html><head><meta charset=`"utf-8`"><style>html{overflow:hidden}body{margin:0;background:#0c0c0c}" +
    "pre{margin:0;padding:12px 14px;color:#cccccc;font:14px/18px 'DejaVu Sans Mono',monospace}</style></head><body><pre>" +
    [System.Net.WebUtility]::HtmlEncode(($lines -join "`n")) + '</pre></body></html>')
$browser = Start-HeadlessChromium -Width 1060 -Height ($lines.Count * 18 + 200)
try {
    Open-Page $browser ([uri]::new($page).AbsoluteUri)
    Save-Screenshot $browser (Join-Path $ImageFolder 'demo-table.png')
}
finally { Stop-HeadlessChromium $browser }
Set-Content (Join-Path $ImageFolder 'demo-table.txt') $text -NoNewline

$browser = Start-HeadlessChromium -Width 1300 -Height 820
try {
    Open-Page $browser ([uri]::new((Join-Path $DemoFolder 'dry-run.html')).AbsoluteUri)
    Save-Screenshot $browser (Join-Path $ImageFolder 'report.png')
}
finally { Stop-HeadlessChromium $browser }
"Images written to $ImageFolder"
