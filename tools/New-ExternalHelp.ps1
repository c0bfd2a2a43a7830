<#
.SYNOPSIS
    Builds the module's help (platyPS is not available here): MAML from docs/help/<cmdlet>.md, and
    about_ProfileSync.help.txt from docs/help/about_ProfileSync.md.
.DESCRIPTION
    Syntax, parameter types, positions, pipeline input, aliases and parameter sets come from the
    built module itself, in the order Get-Command -Syntax shows them, -WhatIf and -Confirm included; the markdown gives the words: synopsis, description, examples, each
    parameter's text and default, inputs, outputs, notes, links. A cmdlet or parameter without its
    words, or words for a parameter that does not exist, fails the build: the help stays true.
    Each cmdlet's first related link is its online help: docs/help/<cmdlet>.md under the manifest's
    ProjectUri, which Get-Help -Online opens.
    Runs in its own process (it imports the built module).
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $HelpSource,
    [Parameter(Mandatory)] [string] $OutputFolder
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$module = Get-Module ProfileSync
# -WhatIf and -Confirm (the "optional" common parameters) are documented like the cmdlet's own; the others are <CommonParameters>.
$common = [System.Management.Automation.PSCmdlet]::CommonParameters + @([System.Management.Automation.PSCmdlet]::OptionalCommonParameters | Where-Object { $_ -notin 'WhatIf', 'Confirm' })
$riskMitigation = @{
    WhatIf  = [pscustomobject]@{ Name = 'WhatIf'; Lines = @('Shows what would happen if the cmdlet runs. Nothing is written.'); Default = 'False' }
    Confirm = [pscustomobject]@{ Name = 'Confirm'; Lines = @('Prompts you for confirmation before each change.'); Default = 'False' }
}
$onlineBase = "$($module.PrivateData.PSData.ProjectUri.ToString().TrimEnd('/'))/blob/main/docs/help"

# The order of Get-Command -Syntax: positional parameters by position, then mandatory named ones, then the rest as declared.
function Get-SyntaxOrder($Set) {
    $i = 0
    $Set.Parameters | Where-Object { $_.Name -notin $common } | ForEach-Object { [pscustomobject]@{ P = $_; Index = $i++ } } |
        Sort-Object @{ Expression = { if ($_.P.Position -ge 0) { 0 } elseif ($_.P.IsMandatory) { 1 } else { 2 } } }, @{ Expression = { $_.P.Position } }, Index |
        ForEach-Object P
}
New-Item -ItemType Directory -Force $OutputFolder | Out-Null

# Reads one markdown help file into sections: text paragraphs, examples, parameters, inputs, outputs.
function Read-HelpMarkdown([string] $Path) {
    $help = [ordered]@{ Synopsis = @(); Description = @(); Examples = @(); Parameters = [ordered]@{}; Inputs = @(); Outputs = @(); Notes = @(); Links = @() }
    $section = $null; $current = $null; $inCode = $false
    foreach ($line in Get-Content $Path -Encoding utf8) {
        if ($inCode) {
            if ($line -match '^```') { $inCode = $false } else { $current.Code += $line }
            continue
        }
        if ($line -match '^## (.+)$') { $section = $Matches[1].Trim(); $current = $null; continue }
        if ($line -match '^### (.+)$') {
            $title = $Matches[1].Trim()
            switch ($section) {
                'EXAMPLES' { $current = [pscustomobject]@{ Title = $title; Code = @(); Lines = @() }; $help.Examples += $current }
                'PARAMETERS' { $name = $title.TrimStart('-'); $current = [pscustomobject]@{ Name = $name; Lines = @(); Default = $null }; $help.Parameters[$name] = $current }
                'INPUTS' { $current = [pscustomobject]@{ Type = $title; Lines = @() }; $help.Inputs += $current }
                'OUTPUTS' { $current = [pscustomobject]@{ Type = $title; Lines = @() }; $help.Outputs += $current }
            }
            continue
        }
        if ($line -match '^```') { $inCode = $true; continue }
        switch ($section) {
            'SYNOPSIS' { $help.Synopsis += $line }
            'DESCRIPTION' { $help.Description += $line }
            'NOTES' { $help.Notes += $line }
            'RELATED LINKS' { if ($line -match '^\s*-\s*(.+)$') { $help.Links += $Matches[1].Trim() } }
            default {
                if ($null -eq $current) { break }
                if ($section -eq 'PARAMETERS' -and $line -match '^Default value:\s*(.+)$') { $current.Default = $Matches[1].Trim() }
                else { $current.Lines += $line }
            }
        }
    }
    $help
}

# Blank-line separated paragraphs; a list item ("- ...") is a paragraph of its own.
function ConvertTo-Paragraphs([string[]] $Lines) {
    $paragraphs = [System.Collections.Generic.List[string]]::new(); $buffer = @()
    foreach ($line in $Lines + '') {
        if ($line.Trim() -eq '' -or $line -match '^\s*- ') {
            if ($buffer) { $paragraphs.Add(($buffer -join ' ')); $buffer = @() }
            if ($line -match '^\s*- ') { $buffer = @($line.Trim()) }
        }
        else { $buffer += $line.Trim() }
    }
    $paragraphs.ToArray()
}

$maml = 'http://schemas.microsoft.com/maml/2004/10'
$cmd = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$helpFile = Join-Path $OutputFolder 'ProfileSync.dll-Help.xml'
$xml = [System.Xml.XmlWriter]::Create($helpFile, $settings)
function Para([string[]] $Lines) { foreach ($p in ConvertTo-Paragraphs $Lines) { $xml.WriteElementString('para', $maml, $p) } }
function Description([string[]] $Lines) { $xml.WriteStartElement('description', $maml); Para $Lines; $xml.WriteEndElement() }

function Write-Parameter($Parameter, $SetMetadata, $Words, [bool] $InSyntax) {
    $xml.WriteStartElement('parameter', $cmd)
    $xml.WriteAttributeString('required', "$($SetMetadata.IsMandatory)".ToLowerInvariant())
    $xml.WriteAttributeString('variableLength', "$($Parameter.ParameterType.IsArray)".ToLowerInvariant())
    $xml.WriteAttributeString('globbing', 'false')
    $pipeline = @(); if ($SetMetadata.ValueFromPipelineByPropertyName) { $pipeline += 'ByPropertyName' }; if ($SetMetadata.ValueFromPipeline) { $pipeline += 'ByValue' }
    $xml.WriteAttributeString('pipelineInput', $(if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }))
    $xml.WriteAttributeString('position', $(if ($SetMetadata.Position -ge 0) { "$($SetMetadata.Position)" } else { 'named' }))
    $xml.WriteAttributeString('aliases', $(if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }))
    $xml.WriteElementString('name', $maml, $Parameter.Name)
    Description $Words.Lines
    $isSwitch = $Parameter.ParameterType -eq [System.Management.Automation.SwitchParameter]
    if (-not ($InSyntax -and $isSwitch)) {
        $xml.WriteStartElement('parameterValue', $cmd)
        $xml.WriteAttributeString('required', "$(-not $isSwitch)".ToLowerInvariant())
        $xml.WriteAttributeString('variableLength', 'false')
        $xml.WriteString($Parameter.ParameterType.Name)
        $xml.WriteEndElement()
    }
    $xml.WriteStartElement('type', $dev); $xml.WriteElementString('name', $maml, $Parameter.ParameterType.FullName); $xml.WriteEndElement()
    $xml.WriteElementString('defaultValue', $dev, $(if ($Words.Default) { $Words.Default } elseif ($isSwitch) { 'False' } else { 'None' }))
    $xml.WriteEndElement()
}

$problems = @()
$xml.WriteStartDocument()
$xml.WriteStartElement('helpItems', 'http://msh'); $xml.WriteAttributeString('schema', 'maml')
foreach ($command in Get-Command -Module ProfileSync -CommandType Cmdlet | Sort-Object Name) {
    $source = Join-Path $HelpSource "$($command.Name).md"
    if (-not (Test-Path $source)) { $problems += "$($command.Name): no help source $source"; continue }
    $words = Read-HelpMarkdown $source
    foreach ($name in $riskMitigation.Keys) { if ($command.Parameters.ContainsKey($name) -and -not $words.Parameters.Contains($name)) { $words.Parameters[$name] = $riskMitigation[$name] } }
    $parameters = @($command.Parameters.Values | Where-Object { $_.Name -notin $common })
    foreach ($p in $parameters) { if (-not $words.Parameters.Contains($p.Name) -or -not ($words.Parameters[$p.Name].Lines -join '').Trim()) { $problems += "$($command.Name) -$($p.Name): no help text" } }
    foreach ($name in $words.Parameters.Keys) { if ($name -notin $parameters.Name) { $problems += "$($command.Name): help for -$name, which does not exist" } }
    if (-not ($words.Synopsis -join '').Trim()) { $problems += "$($command.Name): no synopsis" }
    if ($words.Examples.Count -lt 3) { $problems += "$($command.Name): fewer than three examples" }

    $xml.WriteStartElement('command', 'command', $cmd)
    $xml.WriteAttributeString('xmlns', 'maml', $null, $maml); $xml.WriteAttributeString('xmlns', 'dev', $null, $dev)
    $xml.WriteStartElement('details', $cmd)
    $xml.WriteElementString('name', $cmd, $command.Name)
    $xml.WriteElementString('verb', $cmd, $command.Verb)
    $xml.WriteElementString('noun', $cmd, $command.Noun)
    Description $words.Synopsis
    $xml.WriteEndElement()
    Description $words.Description

    $xml.WriteStartElement('syntax', $cmd)
    foreach ($set in $command.ParameterSets) {
        $xml.WriteStartElement('syntaxItem', $cmd)
        $xml.WriteElementString('name', $maml, $command.Name)
        foreach ($p in Get-SyntaxOrder $set) {
            $parameter = $command.Parameters[$p.Name]
            $metadata = $parameter.ParameterSets[$set.Name]; if (-not $metadata) { $metadata = $parameter.ParameterSets['__AllParameterSets'] }
            Write-Parameter $parameter $metadata $words.Parameters[$p.Name] $true
        }
        $xml.WriteEndElement()
    }
    $xml.WriteEndElement()

    $xml.WriteStartElement('parameters', $cmd)
    foreach ($parameter in $parameters) {
        $metadata = @($parameter.ParameterSets.Values)[0]
        Write-Parameter $parameter $metadata $words.Parameters[$parameter.Name] $false
    }
    $xml.WriteEndElement()

    foreach ($kind in @(@{ List = 'inputTypes'; Item = 'inputType'; Words = $words.Inputs }, @{ List = 'returnValues'; Item = 'returnValue'; Words = $words.Outputs })) {
        $xml.WriteStartElement($kind.List, $cmd)
        foreach ($entry in $kind.Words) {
            $xml.WriteStartElement($kind.Item, $cmd)
            $xml.WriteStartElement('type', $dev); $xml.WriteElementString('name', $maml, $entry.Type); $xml.WriteEndElement()
            Description $entry.Lines
            $xml.WriteEndElement()
        }
        $xml.WriteEndElement()
    }
    $xml.WriteStartElement('alertSet', $maml); $xml.WriteStartElement('alert', $maml); Para $words.Notes; $xml.WriteEndElement(); $xml.WriteEndElement()

    $xml.WriteStartElement('examples', $cmd)
    foreach ($example in $words.Examples) {
        $xml.WriteStartElement('example', $cmd)
        $xml.WriteElementString('title', $maml, "-------------------------- $($example.Title) --------------------------")
        $xml.WriteElementString('code', $dev, ($example.Code -join "`n"))
        $xml.WriteStartElement('remarks', $dev); Para $example.Lines; $xml.WriteEndElement()
        $xml.WriteEndElement()
    }
    $xml.WriteEndElement()
    $xml.WriteStartElement('relatedLinks', $cmd)
    $online = "$onlineBase/$($command.Name).md"
    $xml.WriteStartElement('navigationLink', $maml); $xml.WriteElementString('linkText', $maml, 'Online Version:'); $xml.WriteElementString('uri', $maml, $online); $xml.WriteEndElement()
    foreach ($link in $words.Links) { $xml.WriteStartElement('navigationLink', $maml); $xml.WriteElementString('linkText', $maml, $link); $xml.WriteElementString('uri', $maml, ''); $xml.WriteEndElement() }
    $xml.WriteEndElement()
    $xml.WriteEndElement()
}
$xml.WriteEndElement()
$xml.WriteEndDocument()
$xml.Dispose()

# about_ topics: plain text in the layout Get-Help shows.
foreach ($about in Get-ChildItem $HelpSource -Filter 'about_*.md') {
    $text = [System.Text.StringBuilder]::new()
    $null = $text.AppendLine('TOPIC').AppendLine("    $($about.BaseName)").AppendLine()
    $inCode = $false
    foreach ($line in (Get-Content $about.FullName -Encoding utf8 | Select-Object -Skip 1)) {
        if ($line -match '^```') { $inCode = -not $inCode; continue }
        if ($line -match '^## (.+)$') { $null = $text.AppendLine($Matches[1].ToUpperInvariant()); continue }
        if ($line -match '^### (.+)$') { $null = $text.AppendLine("  $($Matches[1].ToUpperInvariant())"); continue }
        $null = $text.AppendLine($(if ($line.Trim()) { '    ' + $line.TrimEnd() } else { '' }))
    }
    [IO.File]::WriteAllText((Join-Path $OutputFolder "$($about.BaseName).help.txt"), $text.ToString(), [System.Text.UTF8Encoding]::new($false))
}

if ($problems) { throw "Help is incomplete:`n  " + ($problems -join "`n  ") }
"Help written to $OutputFolder"
